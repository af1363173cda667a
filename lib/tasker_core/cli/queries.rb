# frozen_string_literal: true

require "pg"
require "tasker_core/queue_name"

module TaskerCore
  class CLI
    # Read-only SQL for `tasker-core status`, on one pg connection in a read-only transaction.
    # Queue names come from pgmq.meta and are checked against the queue name pattern before
    # they are quoted into a statement.
    class Queries
      # Steps that can still move belong to unfinished tasks: found through tasks_active_idx.
      ACTIVE_STEP = "t.state IN ('pending', 'in_progress') " \
                    "AND s.state IN ('pending', 'enqueued', 'in_progress', 'waiting_for_retry')"

      def initialize(configuration)
        @configuration = configuration
        @conn = PG.connect(configuration.database_url, application_name: "tasker-core cli")
        @conn.exec("SET default_transaction_read_only = on")
      rescue PG::Error => e
        raise TaskerCore::DatabaseError,
              "cannot connect to #{configuration.redacted_database_url}: #{e.message.lines.first.to_s.strip}"
      end

      def close
        @conn&.close
      end

      # [{namespace, name, state, count}]
      def tasks_by_state(since_seconds: nil)
        where = since_seconds ? "WHERE created_at > now() - make_interval(secs => $1::double precision)" : ""
        exec(<<~SQL, since_seconds ? [since_seconds] : []).to_a
          SELECT namespace, name, state, count(*)::bigint AS count
            FROM tasker.tasks #{where}
           GROUP BY namespace, name, state ORDER BY namespace, name, state
        SQL
      end

      # [{queue, depth, visible, in_flight, delayed, oldest_age_seconds, archived}]
      def queues
        exec("SELECT queue_name FROM pgmq.meta ORDER BY queue_name").column_values(0).map do |queue|
          raise TaskerCore::DatabaseError, "unexpected queue name #{queue.inspect} in pgmq.meta" unless
            TaskerCore::QUEUE_NAME.match?(queue)

          queue_row(queue)
        end
      end

      # Steps that look stuck: running past their timeout, enqueued for a long time (is a
      # worker running for that namespace?), or ready but not enqueued (is an orchestrator
      # running?).
      def stuck_steps(after_seconds:, limit:)
        exec(<<~SQL, [after_seconds, limit]).to_a
          SELECT * FROM (
            SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.state, s.attempts,
                   s.max_attempts, s.handler, EXTRACT(EPOCH FROM now() - s.started_at)::float AS age_seconds,
                   'running past its ' || s.timeout_seconds || ' s timeout' AS problem
              FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
             WHERE #{ACTIVE_STEP} AND s.state = 'in_progress'
               AND s.started_at < now() - make_interval(secs => s.timeout_seconds)
            UNION ALL
            SELECT s.task_uuid, t.namespace, t.name, s.name, s.state, s.attempts, s.max_attempts, s.handler,
                   EXTRACT(EPOCH FROM now() - s.enqueued_at)::float,
                   'enqueued and not picked up (no worker for ' || t.namespace || '?)'
              FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
             WHERE #{ACTIVE_STEP} AND s.state = 'enqueued'
               AND s.enqueued_at < now() - make_interval(secs => $1::double precision)
            UNION ALL
            SELECT t.task_uuid, t.namespace, t.name, r.name, r.state, r.attempts, r.max_attempts, NULL,
                   EXTRACT(EPOCH FROM now() - t.updated_at)::float,
                   'ready but not enqueued (no orchestrator running?)'
              FROM tasker.tasks t CROSS JOIN LATERAL tasker.steps_readiness(ARRAY[t.task_uuid]) r
             WHERE t.state IN ('pending', 'in_progress') AND r.ready AND r.state = 'pending'
               AND t.updated_at < now() - make_interval(secs => $1::double precision)
          ) stuck ORDER BY age_seconds DESC NULLS LAST LIMIT $2
        SQL
      end

      def retrying_steps(limit:)
        exec(<<~SQL, [limit]).to_a
          SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.attempts, s.max_attempts,
                 EXTRACT(EPOCH FROM s.backoff_until - now())::float AS retry_in_seconds,
                 s.last_error->>'class' AS error_class, s.last_error->>'message' AS error_message
            FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
           WHERE #{ACTIVE_STEP} AND s.state = 'waiting_for_retry'
           ORDER BY s.backoff_until NULLS FIRST LIMIT $1
        SQL
      end

      # Who is connected with a tasker-core application_name (orchestrators, workers, this CLI).
      def connections
        exec(<<~SQL).to_a
          SELECT application_name, count(*)::int AS connections,
                 string_agg(DISTINCT COALESCE(host(client_addr), 'local'), ', ') AS clients
            FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'tasker-core%'
             AND pid <> pg_backend_pid()
           GROUP BY application_name ORDER BY application_name
        SQL
      end

      private

      def queue_row(queue)
        table = @conn.quote_ident("q_#{queue}")
        archive = @conn.quote_ident("a_#{queue}")
        exec(<<~SQL).first.merge("queue" => queue)
          SELECT count(*)::bigint AS depth,
                 count(*) FILTER (WHERE vt <= now())::bigint AS visible,
                 count(*) FILTER (WHERE vt > now() AND read_ct > 0)::bigint AS in_flight,
                 count(*) FILTER (WHERE vt > now() AND read_ct = 0)::bigint AS delayed,
                 EXTRACT(EPOCH FROM now() - min(enqueued_at))::float AS oldest_age_seconds,
                 (SELECT count(*) FROM pgmq.#{archive})::bigint AS archived
            FROM pgmq.#{table}
        SQL
      end

      def exec(sql, params = [])
        result = @conn.exec_params(sql, params)
        result.type_map = (@type_map ||= PG::BasicTypeMapForResults.new(@conn))
        result
      rescue PG::Error => e
        raise TaskerCore::DatabaseError, "status query failed: #{e.message.lines.first.to_s.strip}"
      end
    end
  end
end
