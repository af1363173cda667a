# frozen_string_literal: true

require "fileutils"

module Bench
  module Sections
    # Where the time of a step goes, from the database's side:
    # - pg_test_fsync on the cluster's disk (what one commit costs);
    # - pg_stat_statements (track = all, so statements inside the SQL functions show too) over a
    #   batch of linear tasks at 4 worker threads: top statements by total time, per step;
    # - commits, WAL bytes and WAL syncs per step (pg_stat_database, pg_stat_wal);
    # - EXPLAIN ANALYZE of the statements inside the hot-path SQL functions (auto_explain with
    #   nested statements, in a transaction that is rolled back).
    class Profile
      attr_accessor :prior

      WORKER_THREADS = 4
      AUTO_EXPLAIN = { "log_min_duration" => "0", "log_analyze" => "on", "log_buffers" => "on", "log_timing" => "on",
                       "log_nested_statements" => "on", "log_level" => "notice", "log_format" => "text" }.freeze
      BENCH_QUERIES = /count\(\*\) FROM tasker\.tasks WHERE namespace|pg_stat_|VACUUM|TRUNCATE|purge_queue|pgmq\.meta/

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        result = {}
        result["fsync"] = fsync_test if @ctx.options.fsync_test && @ctx.db.data_dir
        result.merge!(statements)
        result["explain"] = self.class.explain(@ctx)
        result
      end

      # Plans of the statements inside the hot-path functions, for one fresh linear task, in a
      # transaction that is rolled back. Statements go by the simple protocol (literals quoted by
      # libpq) so each plan arrives right after its statement.
      def self.explain(ctx)
        env = ctx.tasker
        env.start_orchestrator
        env.reset!(keep_history: true)
        task = env.create("linear")
        notices = []
        ctx.db.with(env.url) do |c|
          step = c.exec("SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = " \
                        "#{c.escape_literal(task.uuid.to_s)} ORDER BY position LIMIT 1").getvalue(0, 0)
          c.set_notice_receiver { |r| notices << r.error_message.strip }
          c.exec("LOAD 'auto_explain'")
          AUTO_EXPLAIN.each { |k, v| c.exec("SET auto_explain.#{k} = '#{v}'") }
          c.exec("BEGIN")
          explain_worker(c, notices, step)
          explain_orchestrator(c, notices, task.uuid, step)
          c.exec("ROLLBACK")
        end
        env.reset!(keep_history: true)
        notices.join("\n\n")
      end

      class << self
        private

        # One statement of the hot path: its title, then (auto_explain's notices) its plans.
        def explained(conn, notices, title, sql)
          notices << "=== #{title}"
          conn.exec(sql)
        end

        # The worker's side: the claim of the task's first step, and the submission of its result.
        def explain_worker(conn, notices, step)
          queue = "linear_workflow_queue"
          claim_sql = TaskerCore::Worker::QueueClient.claim_sql(queue).sub("($1, $2, $3)", "(30, 1, 25)")
          msg = explained(conn, notices, "worker: claim (tasker.queue_claim_<queue>: read, claim_step, move_steps)",
                          claim_sql).getvalue(0, 0)
          result = JSON.generate("step_uuid" => step, "attempt" => 1, "status" => "success", "result" => 4,
                                 "duration_ms" => 0.1, "metadata" => {})
          arguments = "(#{Integer(msg)}, #{conn.escape_literal(result)})"
          submit_sql = TaskerCore::Worker::QueueClient.submit_sql(queue).sub("($1, $2::jsonb)", arguments)
          explained(conn, notices, "worker: submit (tasker.queue_submit_<queue>)", submit_sql)
        end

        # The orchestrator's side: the result applied and the next step enqueued; then the status.
        def explain_orchestrator(conn, notices, task_uuid, step)
          task = conn.escape_literal(task_uuid.to_s)
          run = ->(title, sql) { explained(conn, notices, title, sql) }
          run.call("orchestrator: tasker.read_results", "SELECT msg_id FROM tasker.read_results(30, 10)")
          run.call("orchestrator: task row lock (as in src/store/settle.rs)",
                   "SELECT state FROM tasker.tasks WHERE task_uuid = #{task} FOR UPDATE")
          run.call("orchestrator: step complete (tasker.move_steps, as src/store/results/batched.rs calls it)",
                   "SELECT * FROM tasker.move_steps(ARRAY[#{conn.escape_literal(step.to_s)}]::uuid[], " \
                   "ARRAY['in_progress'], ARRAY[1], ARRAY['complete'], ARRAY['bench'], ARRAY['4'::jsonb])")
          run.call("orchestrator: tasker.enqueue_ready (steps_readiness, move_steps, send_step_messages)",
                   "SELECT * FROM tasker.enqueue_ready(ARRAY[#{task}]::uuid[], 'bench')")
          run.call("status: tasker.task_status", "SELECT tasker.task_status(#{task})")
        end
      end

      private

      def fsync_test
        bin = File.join(ENV.fetch("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"), "pg_test_fsync")
        file = File.join(File.dirname(@ctx.db.data_dir), "pg_test_fsync.out")
        out = `#{bin} -s 1 -f #{file} 2>&1`
        FileUtils.rm_f(file)
        ops = out.scan(%r{^\s+(\S+(?: \S+)*?)\s{2,}([\d.]+) ops/sec}).to_h { |k, v| [k.strip, v.to_f] }
        fdatasync = out[%r{open_datasync.*?\n\s+fdatasync\s+([\d.]+) ops/sec}m, 1]&.to_f
        @ctx.log("pg_test_fsync: fdatasync #{fdatasync} ops/s (one 8kB write per sync)")
        { "fdatasync_ops_per_second" => fdatasync, "ops_per_second" => ops, "raw" => out }
      end

      def statements
        env = @ctx.tasker
        env.start_orchestrator
        track_statements
        sleep 0.5
        env.reset!
        tasks = @ctx.options[:profile_tasks]
        before, after = counted_run(env, tasks)
        window = env.window("linear")
        steps = window["steps"].to_f
        top = top_statements(steps)
        per_step = after.to_h { |k, v| [k, ((v - before[k]) / steps).round(3)] }
        @ctx.log("profile: per step #{per_step.map { |k, v| "#{k} #{v}" }.join(", ")}")
        { "tasks" => tasks, "steps" => steps.to_i, "worker_threads" => WORKER_THREADS,
          "steps_per_second" => (steps / window["seconds"]).round(1), "per_step" => per_step,
          "top_statements" => top }
      ensure
        untrack_statements
      end

      # pg_stat_statements on, counting the statements inside SQL functions too.
      def track_statements
        @ctx.db.with do |c|
          c.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
          c.exec("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
          c.exec("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
          c.exec("SELECT pg_reload_conf()")
        end
      end

      def untrack_statements
        @ctx.db.with do |c|
          c.exec("ALTER SYSTEM RESET pg_stat_statements.track")
          c.exec("ALTER SYSTEM RESET pg_stat_statements.track_planning")
          c.exec("SELECT pg_reload_conf()")
        end
      end

      # Runs `tasks` linear tasks on a worker process, pg_stat_statements reset just before they
      # are created; returns the database's counters from before and after.
      def counted_run(env, tasks)
        worker = @ctx.tasker_worker(WORKER_THREADS)
        before = counters
        @ctx.db.with { |c| c.exec("SELECT pg_stat_statements_reset()") }
        env.create_many("linear", tasks, threads: 2)
        env.wait_all("linear", tasks, timeout: 120)
        after = counters
        worker.stop
        [before, after]
      end

      def counters
        @ctx.db.with do |c|
          db = c.exec("SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, blks_hit " \
                      "FROM pg_stat_database WHERE datname = current_database()").first
          wal = c.exec("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal").first
          { "commits" => db["xact_commit"], "rollbacks" => db["xact_rollback"], "rows_inserted" => db["tup_inserted"],
            "rows_updated" => db["tup_updated"], "rows_deleted" => db["tup_deleted"],
            "wal_records" => wal["wal_records"], "wal_bytes" => wal["wal_bytes"], "wal_writes" => wal["wal_write"],
            "wal_syncs" => wal["wal_sync"] }
            .transform_values(&:to_f)
        end
      end

      def top_statements(steps)
        rows = @ctx.db.with do |c|
          c.exec(<<~SQL).to_a
            SELECT toplevel, calls, total_exec_time, mean_exec_time, plans, total_plan_time, rows, wal_bytes,
                   shared_blks_hit + shared_blks_read AS blocks, regexp_replace(query, '\\s+', ' ', 'g') AS query
              FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY total_exec_time DESC LIMIT 60
          SQL
        end
        rows.reject { |r| BENCH_QUERIES.match?(r["query"]) }.first(30).map { |r| statement_row(r, steps) }
      end

      # One pg_stat_statements row, per step and per call.
      def statement_row(row, steps)
        calls = [row["calls"].to_f, 1].max
        per = ->(key, divisor, digits) { (row[key].to_f / divisor).round(digits) }
        { "toplevel" => row["toplevel"] == "t", "calls_per_step" => per["calls", steps, 3],
          "ms_per_step" => per["total_exec_time", steps, 4], "mean_ms" => per["mean_exec_time", 1, 4],
          "plans_per_call" => per["plans", calls, 2], "plan_ms_per_step" => per["total_plan_time", steps, 4],
          "rows_per_call" => per["rows", calls, 2], "wal_bytes_per_step" => per["wal_bytes", steps, 1],
          "blocks_per_call" => per["blocks", calls, 1], "query" => row["query"][0, 300] }
      end
    end
  end
end
