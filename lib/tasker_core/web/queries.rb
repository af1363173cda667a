# frozen_string_literal: true

require "json"
require "tasker_core/queue_name"

module TaskerCore
  class Web
    # Every SQL statement the dashboard runs, on its own read-only connections. Values are
    # always bind parameters; the only identifiers built from data are pgmq queue tables, and
    # their names are checked against TaskerCore::QUEUE_NAME first. Timestamps come back as
    # ISO 8601 UTC strings with microseconds, so a keyset cursor round-trips exactly.
    class Queries
      TASK_STATES = %w[pending in_progress complete error cancelled resolved_manually].freeze
      STEP_STATES = %w[pending enqueued in_progress complete waiting_for_retry error cancelled
                       resolved_manually].freeze
      INTERNAL_QUEUES = %w[tasker_step_results tasker_task_requests].freeze
      ORCHESTRATOR_LISTEN = 'LISTEN "tasker_q_tasker_step_results"'
      TRANSITIONS_LIMIT = 500
      ACTIVE_TASK = "t.state IN ('pending', 'in_progress')" # found through tasks_active_idx

      # Writes a timestamptz column as 2026-01-02T03:04:05.123456Z.
      def self.iso(column)
        "to_char(#{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
      end

      TASK_COLUMNS = <<~SQL.freeze
        t.task_uuid, t.namespace, t.name, t.version, t.state, t.initiator, t.source_system, t.reason,
        array_to_json(t.tags)::text AS tags, t.priority,
        #{iso("t.created_at")} AS created_at, #{iso("t.completed_at")} AS completed_at,
        round((extract(epoch FROM COALESCE(t.completed_at, clock_timestamp()) - t.created_at) * 1000)::numeric, 1)
          AS duration_ms,
        (SELECT count(*) FROM tasker.workflow_steps s WHERE s.task_uuid = t.task_uuid) AS steps_total,
        (SELECT count(*) FROM tasker.workflow_steps s WHERE s.task_uuid = t.task_uuid
            AND s.state IN ('complete', 'resolved_manually')) AS steps_done,
        (SELECT count(*) FROM tasker.workflow_steps s WHERE s.task_uuid = t.task_uuid
            AND s.state = 'error') AS steps_failed
      SQL

      def initialize(pool)
        @pool = pool
      end

      # true when the database answers.
      def ping
        @pool.with { |conn| conn.exec("SELECT 1").getvalue(0, 0) == "1" }
      end

      # Everything on the overview page, from one connection.
      def overview
        @pool.with do |conn|
          {
            "last_hour" => last_hour(conn),
            "unfinished_tasks" => Integer(conn.exec(<<~SQL).getvalue(0, 0)),
              SELECT count(*) FROM tasker.tasks WHERE state IN ('pending', 'in_progress')
            SQL
            "queues" => queues(conn),
            "waiting_for_retry" => waiting_for_retry(conn),
            "recent_errors" => recent_errors(conn),
            "processes" => processes(conn),
            "database_time" => conn.exec("SELECT #{self.class.iso("clock_timestamp()")}").getvalue(0, 0)
          }
        end
      end

      # Keyset paging, newest first, on (created_at, task_uuid). `filters` is a TaskFilters;
      # returns {"tasks" => rows, "older" => cursor or nil, "newer" => cursor or nil}.
      def tasks(filters)
        conditions, params = filter_conditions(filters)
        cursor = filters.cursor
        backwards = cursor && filters.direction == :newer
        if cursor
          params.push(cursor.created_at, cursor.task_uuid)
          op = backwards ? ">" : "<"
          conditions << "(t.created_at, t.task_uuid) #{op} ($#{params.size - 1}::timestamptz, $#{params.size}::uuid)"
        end
        order = backwards ? "ASC" : "DESC"
        params << (filters.limit + 1)
        sql = <<~SQL
          SELECT #{TASK_COLUMNS} FROM tasker.tasks t
          #{conditions.empty? ? "" : "WHERE #{conditions.join(" AND ")}"}
          ORDER BY t.created_at #{order}, t.task_uuid #{order}
          LIMIT $#{params.size}
        SQL
        rows = @pool.with { |conn| conn.exec_params(sql, params).map { |row| task_row(row) } }
        # Paging back reached the newest tasks: show a full first page instead of a short one.
        return tasks(filters.first_page) if backwards && rows.size <= filters.limit

        page(rows, filters, backwards)
      end

      # Namespaces and task names known to the registry, for the filter form.
      def task_names
        @pool.with do |conn|
          conn.exec("SELECT DISTINCT namespace, name FROM tasker.named_tasks ORDER BY namespace, name")
              .map { |row| [row["namespace"], row["name"]] }
        end
      end

      # The task's and its steps' transitions, oldest first (the latest TRANSITIONS_LIMIT).
      def transitions(task_uuid)
        sql = <<~SQL
          SELECT * FROM (
            SELECT 'task' AS kind, NULL AS step_name, tt.id, tt.from_state, tt.to_state,
                   NULL::integer AS attempt, tt.reason, tt.metadata::text AS metadata,
                   tt.created_at AS at, #{self.class.iso("tt.created_at")} AS created_at
              FROM tasker.task_transitions tt WHERE tt.task_uuid = $1
            UNION ALL
            SELECT 'step', s.name, st.id, st.from_state, st.to_state, st.attempt, st.reason,
                   st.metadata::text, st.created_at, #{self.class.iso("st.created_at")}
              FROM tasker.workflow_steps s
              JOIN tasker.step_transitions st ON st.step_uuid = s.step_uuid
             WHERE s.task_uuid = $1
            ORDER BY at DESC, kind, id DESC
            LIMIT $2
          ) recent ORDER BY at, kind DESC, id
        SQL
        @pool.with do |conn|
          conn.exec_params(sql, [task_uuid, TRANSITIONS_LIMIT]).map do |row|
            row.delete("at")
            row.merge("id" => Integer(row["id"]), "attempt" => row["attempt"]&.to_i,
                      "metadata" => JSON.parse(row["metadata"] || "{}"))
          end
        end
      end

      private

      def filter_conditions(filters)
        conditions = []
        params = []
        { "t.namespace = $%d" => filters.namespace, "t.name = $%d" => filters.name,
          "t.state = $%d" => filters.state, "t.created_at >= $%d::timestamptz" => filters.created_after,
          "t.created_at < $%d::timestamptz" => filters.created_before }.each do |sql, value|
          next if value.nil?

          params << value
          conditions << format(sql, params.size)
        end
        [conditions, params]
      end

      def page(rows, filters, backwards)
        more = rows.size > filters.limit
        rows = rows.first(filters.limit)
        rows.reverse! if backwards
        older = newer = nil
        if rows.any?
          # Going back (newer): there are older rows (we came from them); more means newer ones too.
          older = TaskFilters::Cursor.from_row(rows.last) if backwards || more
          newer = TaskFilters::Cursor.from_row(rows.first) if filters.cursor && (!backwards || more)
        end
        { "tasks" => rows, "older" => older&.to_s, "newer" => newer&.to_s }
      end

      def task_row(row)
        row.merge("tags" => JSON.parse(row["tags"] || "[]"), "priority" => row["priority"].to_i,
                  "duration_ms" => row["duration_ms"]&.to_f, "steps_total" => row["steps_total"].to_i,
                  "steps_done" => row["steps_done"].to_i, "steps_failed" => row["steps_failed"].to_i)
      end

      def last_hour(conn)
        conn.exec(<<~SQL).map { |row| row.merge("count" => Integer(row["count"])) }
          SELECT namespace, name, state, count(*) AS count FROM tasker.tasks
           WHERE created_at >= now() - interval '1 hour'
           GROUP BY namespace, name, state ORDER BY namespace, name, state
        SQL
      end

      # Depth, messages visible now, delayed or in flight, and the oldest message's age, per queue.
      def queues(conn)
        names = conn.exec("SELECT queue_name FROM pgmq.meta ORDER BY queue_name").column_values(0)
        names = names.grep(TaskerCore::QUEUE_NAME)
        return [] if names.empty?

        parts = names.map do |name|
          table = conn.quote_ident("q_#{name}")
          <<~SQL
            SELECT #{conn.escape_literal(name)} AS queue_name, count(*) AS depth,
                   count(*) FILTER (WHERE vt <= clock_timestamp()) AS visible,
                   count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct = 0) AS delayed,
                   count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct > 0) AS in_flight,
                   max(read_ct) AS max_read_ct,
                   extract(epoch FROM clock_timestamp() - min(enqueued_at)) AS oldest_age_seconds
              FROM pgmq.#{table}
          SQL
        end
        conn.exec(parts.join("UNION ALL\n")).map { |row| queue_row(row) }
      end

      def queue_row(row)
        name = row["queue_name"]
        {
          "queue_name" => name, "kind" => INTERNAL_QUEUES.include?(name) ? "internal" : "namespace",
          "namespace" => name.end_with?("_queue") ? name.delete_suffix("_queue") : nil,
          "depth" => row["depth"].to_i, "visible" => row["visible"].to_i, "delayed" => row["delayed"].to_i,
          "in_flight" => row["in_flight"].to_i, "max_read_ct" => row["max_read_ct"]&.to_i,
          "oldest_age_seconds" => row["oldest_age_seconds"]&.to_f&.round(1)
        }
      end

      def waiting_for_retry(conn)
        sql = "SELECT count(*) FROM tasker.tasks t JOIN tasker.workflow_steps s USING (task_uuid) WHERE #{ACTIVE_TASK}"
        count = Integer(conn.exec("#{sql} AND s.state = 'waiting_for_retry'").getvalue(0, 0))
        steps = conn.exec(<<~SQL).to_a
          SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.attempts,
                 s.max_attempts, #{self.class.iso("s.backoff_until")} AS next_retry_at,
                 s.last_error->>'message' AS error_message, s.last_error->>'class' AS error_class
            FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
           WHERE #{ACTIVE_TASK} AND s.state = 'waiting_for_retry'
           ORDER BY s.backoff_until NULLS FIRST LIMIT 20
        SQL
        steps.each do |row|
          row["attempts"] = row["attempts"].to_i
          row["max_attempts"] = row["max_attempts"].to_i
        end
        { "count" => count, "steps" => steps }
      end

      def recent_errors(conn)
        conn.exec(<<~SQL).map { |row| task_row(row) }
          SELECT #{TASK_COLUMNS} FROM tasker.tasks t WHERE t.state = 'error'
           ORDER BY t.created_at DESC, t.task_uuid DESC LIMIT 10
        SQL
      end

      # Connections from tasker-core processes. PostgreSQL knows connections, not client
      # processes: an orchestrator holds one connection LISTENing for step results, a worker one
      # "fetcher" connection; the rest are pools (the Rust core's is named "tasker-core").
      def processes(conn)
        conn.exec_params(<<~SQL, [ORCHESTRATOR_LISTEN]).map { |row| process_row(row) }
          SELECT regexp_replace(application_name, ' [0-9]+$', '') AS application_name,
                 host(client_addr) AS client_addr, count(*) AS connections,
                 count(*) FILTER (WHERE query = $1) AS orchestrators,
                 count(*) FILTER (WHERE application_name = 'tasker-core worker fetcher') AS workers,
                 count(*) FILTER (WHERE state = 'active') AS active,
                 #{self.class.iso("min(backend_start)")} AS connected_since,
                 #{self.class.iso("max(state_change)")} AS last_activity
            FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'tasker-core%'
             AND pid <> pg_backend_pid()
           GROUP BY 1, 2
           ORDER BY 2 NULLS FIRST, 1
        SQL
      end

      def process_row(row)
        %w[connections orchestrators workers active].each { |key| row[key] = row[key].to_i }
        row
      end
    end
  end
end
