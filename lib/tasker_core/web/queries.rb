# frozen_string_literal: true

require "json"
require "tasker_core/status_queries"

module TaskerCore
  class Web
    # The dashboard's SQL, on its own read-only connections: the overview is
    # TaskerCore::StatusQueries (what `tasker-core status` shows too) plus the latest failures;
    # the rest are the task list's keyset pages, the registry's names and a task's history.
    # Values are always bind parameters. Timestamps come back as ISO 8601 UTC strings with
    # microseconds, so a keyset cursor round-trips exactly.
    class Queries
      TRANSITIONS_LIMIT = 500
      LAST_HOUR = 3600
      RETRYING_SHOWN = 20
      SCHEDULED_SHOWN = 100

      def self.iso(column)
        TaskerCore::StatusQueries.iso(column)
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

      # TaskerCore.metrics, on one of the dashboard's connections.
      def metrics
        @pool.with { |conn| TaskerCore::Metrics.new(TaskerCore::StatusQueries.new(conn)).collect }
      end

      # Everything on the overview page, from one connection.
      def overview
        @pool.with do |conn|
          status = TaskerCore::StatusQueries.new(conn)
          {
            "last_hour" => status.tasks_by_state(since_seconds: LAST_HOUR),
            "unfinished_tasks" => status.unfinished_task_count,
            "queues" => status.queues,
            "waiting_for_retry" => { "count" => status.retrying_count,
                                     "steps" => status.retrying_steps(limit: RETRYING_SHOWN) },
            "recent_errors" => recent_errors(conn),
            "processes" => status.connections,
            "replication" => status.replication,
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

      # Tasks waiting for their run_at, soonest first (StatusQueries#scheduled_tasks).
      def scheduled_tasks
        @pool.with { |conn| TaskerCore::StatusQueries.new(conn).scheduled_tasks(limit: SCHEDULED_SHOWN) }
      end

      # Namespaces and task names known to the registry, for the filter form.
      def task_names
        @pool.with do |conn|
          conn.exec("SELECT DISTINCT namespace, name FROM tasker.named_tasks ORDER BY namespace, name")
              .map { |row| [row["namespace"], row["name"]] }
        end
      end

      # The task's status with large fan-outs collapsed and one page of instances
      # (StatusQueries#task_page; `page` is an InstancePage).
      def task_page(task_uuid, page)
        @pool.with { |conn| TaskerCore::StatusQueries.new(conn).task_page(task_uuid, **page.query) }
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

      def recent_errors(conn)
        conn.exec(<<~SQL).map { |row| task_row(row) }
          SELECT #{TASK_COLUMNS} FROM tasker.tasks t WHERE t.state = 'error'
           ORDER BY t.created_at DESC, t.task_uuid DESC LIMIT 10
        SQL
      end
    end
  end
end
