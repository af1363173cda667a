# frozen_string_literal: true

module Bench
  module Sections
    # One linear 4-step task at a time on an idle system (a worker process with 4 threads, the
    # orchestrator in the bench process): create_task -> wait_for_task returning (wall clock),
    # created_at -> completed_at (database clock), and the per-hop time: a step's claim minus
    # the previous step's claim minus the previous handler's duration_ms.
    class Latency
      WORKER_THREADS = 4
      WARMUP = 5

      TASK_MS_SQL = <<~SQL
        SELECT extract(epoch FROM completed_at - created_at) * 1000 FROM tasker.tasks
         WHERE task_uuid = ANY ($1::uuid[])
      SQL

      # Per step of each task: its claim after the previous one's, less the previous handler's run
      # (hop_ms), and the hop in three parts, by the audit rows' clock_timestamp() times:
      # result_ms (the previous handler's end -> its `complete` move in the orchestrator's batch:
      # the claim's commit and return, the worker's submit, the orchestrator's wake-up, read and
      # lock), enqueue_ms (that move -> this step's `enqueued` move, in the same batch) and
      # claim_ms (-> this step's `in_progress` move: the batch's commit, the worker's wake-up,
      # its read and claim); the first claim after the task's creation; the task's completion
      # after the last handler's end.
      STEP_TIMES_SQL = <<~SQL
        WITH moves AS (
          SELECT s.task_uuid, s.position,
                 max(st.created_at) FILTER (WHERE st.to_state = 'enqueued') AS enqueued_at,
                 max(st.created_at) FILTER (WHERE st.to_state = 'in_progress') AS claimed_at,
                 max(st.created_at) FILTER (WHERE st.to_state = 'complete') AS applied_at,
                 max((st.metadata->>'duration_ms')::float8) FILTER (WHERE st.to_state = 'complete') AS handler_ms
            FROM tasker.step_transitions st JOIN tasker.workflow_steps s USING (step_uuid)
           WHERE s.task_uuid = ANY ($1::uuid[])
           GROUP BY s.task_uuid, s.position
        ), ordered AS (
          SELECT m.task_uuid, m.position, m.claimed_at, m.enqueued_at, m.handler_ms,
                 row_number() OVER (PARTITION BY m.task_uuid ORDER BY m.position) AS n,
                 lag(m.claimed_at) OVER (PARTITION BY m.task_uuid ORDER BY m.position) AS prev_claim,
                 lag(m.applied_at) OVER (PARTITION BY m.task_uuid ORDER BY m.position) AS prev_applied,
                 lag(m.handler_ms) OVER (PARTITION BY m.task_uuid ORDER BY m.position) AS prev_handler_ms
            FROM moves m WHERE m.claimed_at IS NOT NULL AND m.applied_at IS NOT NULL
        )
        SELECT o.n,
               extract(epoch FROM o.claimed_at - o.prev_claim) * 1000 - o.prev_handler_ms AS hop_ms,
               extract(epoch FROM o.prev_applied - o.prev_claim) * 1000 - o.prev_handler_ms AS result_ms,
               extract(epoch FROM o.enqueued_at - o.prev_applied) * 1000 AS enqueue_ms,
               CASE WHEN o.n > 1 THEN extract(epoch FROM o.claimed_at - o.enqueued_at) * 1000 END AS claim_ms,
               o.handler_ms,
               CASE WHEN o.n = 1 THEN extract(epoch FROM o.claimed_at - t.created_at) * 1000 END AS first_ms,
               CASE WHEN o.n = 4 THEN extract(epoch FROM t.completed_at - o.claimed_at) * 1000 - o.handler_ms END AS last_ms
          FROM ordered o JOIN tasker.tasks t USING (task_uuid)
      SQL

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        env = @ctx.tasker
        env.start_orchestrator
        env.reset!
        worker = @ctx.tasker_worker(WORKER_THREADS)
        samples = @ctx.options[:latency_samples]
        WARMUP.times { |i| TaskerCore.wait_for_task(env.create("linear", i).uuid, timeout: 30) }
        env.reset!
        wall, uuids = sample(env, samples)
        worker.stop
        result = { "samples" => samples, "worker_threads" => WORKER_THREADS, "mode" => "worker process",
                   "wall_ms" => Stats.summary(wall) }.merge(self.class.from_database(@ctx.db, uuids))
        log(result)
        result
      end

      # Runs `samples` linear tasks one at a time; returns their create -> done wall times (ms)
      # and their uuids.
      def sample(env, samples)
        wall = []
        uuids = []
        samples.times do |i|
          started = Stats.monotonic
          task = env.create("linear", i)
          status = TaskerCore.wait_for_task(task.uuid, timeout: 30)
          wall << ((Stats.monotonic - started) * 1000.0)
          raise "latency task #{task.uuid} ended #{status.state}" unless status.state == "complete"

          uuids << task.uuid
          sleep 0.01
        end
        [wall, uuids]
      end

      def log(result)
        @ctx.log("latency create->done wall p50 #{result["wall_ms"]["p50"]} ms p99 #{result["wall_ms"]["p99"]} ms; " \
                 "db p50 #{result["db_ms"]["p50"]} p99 #{result["db_ms"]["p99"]}; " \
                 "hop p50 #{result["hop_ms"]["p50"]} p99 #{result["hop_ms"]["p99"]} " \
                 "(p50: result #{result["hop_result_ms"]["p50"]}, enqueue #{result["hop_enqueue_ms"]["p50"]}, " \
                 "claim #{result["hop_claim_ms"]["p50"]})")
      end

      # DB-clock figures of a set of linear tasks.
      def self.from_database(db, uuids)
        db.with do |conn|
          list = PG::TextEncoder::Array.new.encode(uuids)
          task_ms = conn.exec_params(TASK_MS_SQL, [list]).column_values(0).map(&:to_f)
          rows = conn.exec_params(STEP_TIMES_SQL, [list]).to_a
          summary = ->(column) { Stats.summary(rows.filter_map { |r| r[column]&.to_f }) }
          {
            "db_ms" => Stats.summary(task_ms),
            "hop_ms" => summary.call("hop_ms"),
            "hop_result_ms" => summary.call("result_ms"),
            "hop_enqueue_ms" => summary.call("enqueue_ms"),
            "hop_claim_ms" => summary.call("claim_ms"),
            "first_claim_ms" => summary.call("first_ms"),
            "last_result_to_done_ms" => summary.call("last_ms"),
            "handler_ms" => summary.call("handler_ms"),
            "hop_definition" => "claim(step k) - claim(step k-1) - duration_ms(step k-1): handler end -> result " \
                                "submitted -> orchestrator applies it and enqueues step k -> a worker reads and " \
                                "claims it"
          }
        end
      end
    end
  end
end
