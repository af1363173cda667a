# frozen_string_literal: true

require "json"
require "pg"
require "tasker_core/errors"
require "tasker_core/queue_name"
require "tasker_core/states"

module TaskerCore
  # What the database says right now, for `tasker-core status` and the dashboard's overview:
  # tasks by state, queue depths, steps that look stuck, steps waiting for a retry, connected
  # tasker-core processes. One object per PG::Connection the caller lends (read-only, its own);
  # PG errors pass through for the caller to map. Values are bind parameters, and no identifier
  # is built from data (the queues' tables are read by tasker.queue_stats, which leaves out any
  # queue whose name is not a valid queue name). Rows are Hashes
  # with Integer and Float values, and times as ISO 8601 UTC strings with microseconds.
  class StatusQueries
    INTERNAL_QUEUES = %w[tasker_step_results tasker_task_requests].freeze
    # An orchestrator holds one connection waiting in this statement; a worker one "fetcher".
    ORCHESTRATOR_LISTEN = 'LISTEN "tasker_q_tasker_step_results"'
    WORKER_FETCHER = "tasker-core worker fetcher"

    # A SQL list of state names ('a', 'b'), from the constants in TaskerCore::States.
    def self.sql_list(states)
      states.map do |state|
        raise TaskerCore::ArgumentError, "not a state name: #{state.inspect}" unless state.match?(/\A[a-z_]+\z/)

        "'#{state}'"
      end.join(", ")
    end

    # Writes a timestamptz column as 2026-01-02T03:04:05.123456Z.
    def self.iso(column)
      "to_char(#{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    end

    # Unfinished tasks (t), and the steps of theirs that can still move (s): found through
    # tasks_active_idx, so the cost follows the work in flight, not the history.
    UNFINISHED_TASK = "t.state IN (#{sql_list(States::TASK - States::TASK_FINISHED)})".freeze
    UNFINISHED_STEP = "#{UNFINISHED_TASK} AND s.state IN (#{sql_list(States::STEP - States::STEP_FINISHED)})".freeze

    # A read-only connection for a caller without a pool (the CLI).
    def self.connect(database_url, redacted_url:, application_name:)
      conn = PG.connect(database_url, application_name: application_name)
      conn.exec("SET default_transaction_read_only = on")
      conn
    rescue PG::Error => e
      conn&.close
      raise TaskerCore::DatabaseError, "cannot connect to #{redacted_url}: #{e.message.lines.first.to_s.strip}"
    end

    def initialize(conn)
      @conn = conn
    end

    # The server and database this reads: "host:port/dbname".
    def server
      "#{@conn.host}:#{@conn.port}/#{@conn.db}"
    end

    # [{namespace, name, state, count}], of the tasks created in the last since_seconds (or all).
    def tasks_by_state(since_seconds: nil)
      where = since_seconds ? "WHERE created_at >= now() - make_interval(secs => $1::double precision)" : ""
      rows(<<~SQL, since_seconds ? [since_seconds] : [], integers: %w[count])
        SELECT namespace, name, state, count(*) AS count FROM tasker.tasks #{where}
         GROUP BY namespace, name, state ORDER BY namespace, name, state
      SQL
    end

    # Rows {kind, namespace, name, state, folded, count} of sql/state_counts.sql: the tasks
    # unfinished or finished since `from` (everything when nil) and their steps, folded when
    # the task finished before `to`. TaskerCore::Metrics::StateCounts sums them.
    def state_counts(from:, to:)
      rows("SELECT * FROM tasker.state_counts($1, $2)", [from, to], integers: %w[count])
        .each { |row| row["folded"] = row["folded"] == "t" }
    end

    # What identifies this database's task and step tables: another database, or tables
    # emptied by TRUNCATE, give another answer. Also the database's time `ago_seconds` ago.
    def counts_identity(ago_seconds:)
      @conn.exec_params(<<~SQL, [ago_seconds]).first
        SELECT d.oid::text || ':' || pg_relation_filenode('tasker.tasks') || ':' ||
               pg_relation_filenode('tasker.workflow_steps') AS identity,
               now() - make_interval(secs => $1::double precision) AS watermark
          FROM pg_database d WHERE d.datname = current_database()
      SQL
    end

    # Per template, the durations of the steps completed in the last window_seconds (those
    # created within horizon_seconds): steps, sum_seconds, p50, p90, p99 (sql/step_durations.sql).
    def step_durations(window_seconds:, horizon_seconds:)
      rows("SELECT * FROM tasker.step_durations($1, $2)", [window_seconds, horizon_seconds],
           integers: %w[steps], floats: %w[sum_seconds p50 p90 p99])
    end

    def unfinished_task_count
      Integer(@conn.exec("SELECT count(*) FROM tasker.tasks t WHERE #{UNFINISHED_TASK}").getvalue(0, 0))
    end

    # Per queue: depth, messages visible now, delayed (a retry's backoff) or in flight, the
    # highest read count, the oldest message's age, and the archived (poison) messages
    # (sql/queue_stats.sql).
    def queues
      rows("SELECT * FROM tasker.queue_stats()", [], integers: %w[depth visible delayed in_flight max_read_ct archived],
                                                     floats: %w[oldest_age_seconds]).map { |row| queue_row(row) }
    end

    # Steps that look stuck: running past their timeout, enqueued for after_seconds (is a worker
    # running for that namespace?), or ready but not enqueued (is an orchestrator running?).
    def stuck_steps(after_seconds:, limit:)
      rows(<<~SQL, [after_seconds, limit], integers: %w[attempts max_attempts], floats: %w[age_seconds])
        SELECT * FROM (
          SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.state, s.attempts,
                 s.max_attempts, s.handler, EXTRACT(EPOCH FROM now() - s.started_at)::float AS age_seconds,
                 'running past its ' || s.timeout_seconds || ' s timeout' AS problem
            FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
           WHERE #{UNFINISHED_STEP} AND s.state = 'in_progress'
             AND s.started_at < now() - make_interval(secs => s.timeout_seconds)
          UNION ALL
          SELECT s.task_uuid, t.namespace, t.name, s.name, s.state, s.attempts, s.max_attempts, s.handler,
                 EXTRACT(EPOCH FROM now() - GREATEST(s.enqueued_at, t.run_at))::float,
                 'enqueued and not picked up (no worker for ' || t.namespace || '?)'
            FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
           WHERE #{UNFINISHED_STEP} AND s.state = 'enqueued'
             AND GREATEST(s.enqueued_at, t.run_at) < now() - make_interval(secs => $1::double precision)
          UNION ALL
          SELECT t.task_uuid, t.namespace, t.name, r.name, r.state, r.attempts, r.max_attempts, NULL,
                 EXTRACT(EPOCH FROM now() - t.updated_at)::float,
                 'ready but not enqueued (no orchestrator running?)'
            FROM tasker.tasks t CROSS JOIN LATERAL tasker.steps_readiness(ARRAY[t.task_uuid]) r
           WHERE #{UNFINISHED_TASK} AND r.ready AND r.state = 'pending'
             AND t.updated_at < now() - make_interval(secs => $1::double precision)
             AND NOT (t.task_uuid = ANY (tasker.concurrency_waiting(ARRAY[t.task_uuid])))
        ) stuck ORDER BY age_seconds DESC NULLS LAST LIMIT $2
      SQL
    end

    # A task's status in the collapsed form (sql/task_status.sql): the instances of a template
    # with more than collapse_above of them summarized in "instance_groups", and one page of
    # one template's instances (optionally of one state) in "instance_page". Everything else
    # is what TaskerCore.task_status returns; a task request's status when there is no task yet.
    def task_page(task_uuid, collapse_above:, template: nil, state: nil, offset: 0, limit: nil)
      json = @conn.exec_params(<<~SQL, [task_uuid, collapse_above, template, state, offset, limit]).getvalue(0, 0)
        SELECT COALESCE(tasker.task_status($1::uuid, $2::integer, $3::text, $4::text, $5::integer, $6::integer),
                        tasker.task_request_status($1::uuid))::text
      SQL
      raise TaskerCore::NotFoundError, "no task with uuid #{task_uuid}" if json.nil?

      JSON.parse(json)
    end

    # Unfinished tasks created with run_at:/delay: that have not started yet, soonest first.
    def scheduled_tasks(limit:)
      rows(<<~SQL, [limit], floats: %w[starts_in_seconds])
        SELECT t.task_uuid, t.namespace, t.name AS task_name, t.state, #{self.class.iso("t.run_at")} AS run_at,
               EXTRACT(EPOCH FROM t.run_at - now())::float AS starts_in_seconds
          FROM tasker.tasks t
         WHERE t.run_at > now() AND #{UNFINISHED_TASK}
         ORDER BY t.run_at LIMIT $1
      SQL
    end

    def scheduled_count
      Integer(@conn.exec("SELECT count(*) FROM tasker.tasks t WHERE t.run_at > now() AND #{UNFINISHED_TASK}")
                   .getvalue(0, 0))
    end

    def retrying_count
      Integer(@conn.exec(<<~SQL).getvalue(0, 0))
        SELECT count(*) FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
         WHERE #{UNFINISHED_STEP} AND s.state = 'waiting_for_retry'
      SQL
    end

    # The steps waiting for a retry, due soonest first.
    def retrying_steps(limit:)
      rows(<<~SQL, [limit], integers: %w[attempts max_attempts], floats: %w[retry_in_seconds])
        SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.attempts, s.max_attempts,
               #{self.class.iso("s.backoff_until")} AS next_retry_at,
               EXTRACT(EPOCH FROM s.backoff_until - now())::float AS retry_in_seconds,
               s.last_error->>'class' AS error_class, s.last_error->>'message' AS error_message
          FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
         WHERE #{UNFINISHED_STEP} AND s.state = 'waiting_for_retry'
         ORDER BY s.backoff_until NULLS FIRST LIMIT $1
      SQL
    end

    # Connections from tasker-core processes (this one's own left out), by application name
    # (without a trailing pid) and client address. PostgreSQL knows connections, not client
    # processes: an orchestrator holds one connection LISTENing for step results, a worker one
    # fetcher connection; the rest are pools (the Rust core's is named "tasker-core").
    def connections
      rows(<<~SQL, [ORCHESTRATOR_LISTEN, WORKER_FETCHER], integers: %w[connections orchestrators workers active])
        SELECT regexp_replace(application_name, ' [0-9]+$', '') AS application_name,
               host(client_addr) AS client_addr, count(*) AS connections,
               count(*) FILTER (WHERE query = $1) AS orchestrators,
               count(*) FILTER (WHERE application_name = $2) AS workers,
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

    # {replica, lag_seconds, replay_lag_bytes}: whether this connection reads a streaming replica
    # and how far its replay is behind: 0 when it has replayed all it received, else the age of
    # the last transaction it replayed; the WAL received but not replayed yet, in bytes. Both
    # nil on a primary. (What the primary has not sent yet is only visible on the primary, in
    # pg_stat_replication.)
    def replication
      rows(<<~SQL, [], integers: %w[replay_lag_bytes], floats: %w[lag_seconds]).first.merge("replica" => replica?)
        SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE round(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::numeric, 3)
                END AS lag_seconds,
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) AS replay_lag_bytes
      SQL
    end

    def replica?
      @conn.exec("SELECT pg_is_in_recovery()").getvalue(0, 0) == "t"
    end

    private

    def queue_row(row)
      name = row["queue_name"]
      row.merge("kind" => INTERNAL_QUEUES.include?(name) ? "internal" : "namespace",
                "namespace" => name.end_with?("_queue") ? name.delete_suffix("_queue") : nil)
    end

    # The result's rows, with the named columns as Integer and Float (NULL stays nil).
    def rows(sql, params, integers: [], floats: [])
      @conn.exec_params(sql, params).map do |row|
        integers.each { |key| row[key] &&= Integer(row[key]) }
        floats.each { |key| row[key] &&= Float(row[key]) }
        row
      end
    end
  end
end
