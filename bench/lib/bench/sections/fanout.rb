# frozen_string_literal: true

require_relative "../fanout_handlers"
require_relative "../fanout_summary"
require_relative "../task_page_timer"

module Bench
  module Sections
    # One task fanning out to `fanout_elements` trivial instances and summing them (a fan_out
    # step, a per-element step, an aggregating step), the worker in its own process as in the
    # throughput section; then the same with a tenth of the elements, to see whether the fan-in
    # grows linearly. Reported, by the database's clock:
    # - the expansion: from the fan_out step's completion to its last instance's creation (and
    #   to its last instance's enqueue), and how many expand_fan_outs statements it took
    #   (pg_stat_statements, tracking everything while the fan_out's result is applied);
    # - the instances' steps/s, first instance claimed to last instance complete, against the
    #   linear workflow's steps/s measured in this section at the same worker count;
    # - the aggregating step: its handler's duration_ms and its started_at..completed_at;
    # - the dashboard's task page and JSON of the big task (served over HTTP in this process,
    #   median of PAGE_SAMPLES), with where its time goes, and TaskerCore.task_status.
    class Fanout
      attr_accessor :prior

      NAMESPACE = "bench_fanout"
      TEMPLATE = {
        "namespace" => NAMESPACE, "name" => "fan_sum", "version" => "1.0.0",
        "description" => "bench: a fan_out to N trivial instances, summed by one step",
        "steps" => [
          { "name" => "split", "handler" => "Bench::FanoutHandlers::Split", "type" => "fan_out" },
          { "name" => "element", "handler" => "Bench::FanoutHandlers::Element", "depends_on" => ["split"] },
          { "name" => "total", "handler" => "Bench::FanoutHandlers::Total", "depends_on" => ["element"] }
        ]
      }.freeze
      PAGE_SAMPLES = 5
      # The smaller fan-out, to compare the fan-in's cost per element.
      SMALL_DIVISOR = 10

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        env = @ctx.tasker
        env.start_orchestrator
        TaskerCore.register_templates!([TEMPLATE])
        workers = History.new(@ctx).tap { |h| h.prior = prior }.best_workers
        elements = @ctx.options[:fanout_elements]
        linear = Throughput.measure(@ctx, "linear", workers, mode: :process)
        small = measure([elements / SMALL_DIVISOR, 1].max, workers)
        own_result = measure(elements, workers, own_result: true)
        big = measure(elements, workers)
        big["dashboard"] = TaskPageTimer.new(@ctx, PAGE_SAMPLES).measure(big["task_uuid"])
        summarize(workers, linear, big, small).merge("big_with_own_result" => own_result)
      end

      private

      # One fan-out task run to completion on a worker process; its figures. The fan_out step
      # returns its Array (which is then its result too, in every instance's claim), or with
      # own_result a TaskerCore::FanOut whose result is the element count.
      def measure(elements, workers, own_result: false)
        env = @ctx.tasker
        env.reset!
        log = File.join(@ctx.log_dir, "tasker_worker.log")
        log_at = File.size?(log) || 0
        worker = @ctx.tasker_worker(workers, namespaces: [NAMESPACE])
        uuid = counting_expansions do
          task = TaskerCore.create_task(namespace: NAMESPACE, name: TEMPLATE["name"], version: TEMPLATE["version"],
                                        context: { "elements" => elements, "small_result" => own_result },
                                        initiator: "bench",
                                        source_system: "bench", reason: "benchmark")
          wait_for_step(task.uuid, "split")
          task.uuid
        end
        status = TaskerCore.wait_for_task(uuid, timeout: 120 + (elements * 0.05))
        worker.stop
        raise "fan-out task #{uuid} ended #{status.state}, not complete" unless status.state == "complete"

        errors = Throughput.logged_errors(log, log_at)
        @ctx.log("WARNING: the worker logged #{errors} error(s) during this run (#{log})") if errors.positive?
        figures(uuid, elements, workers).merge("fan_out_result" => own_result ? "FanOut.new(items, result:)" : "Array",
                                               "worker_errors" => errors)
      end

      # Runs the block with pg_stat_statements tracking every statement (those inside SQL
      # functions too) from a reset on; returns the block's value. The expand_fan_outs calls
      # and their time are kept for `figures`.
      def counting_expansions
        @ctx.db.with do |c|
          c.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
          c.exec("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
          c.exec("SELECT pg_reload_conf()")
          c.exec("SELECT pg_stat_statements_reset()")
        end
        value = yield
        @expansions = expansion_statements
        value
      ensure
        @ctx.db.with do |c|
          c.exec("ALTER SYSTEM RESET pg_stat_statements.track")
          c.exec("SELECT pg_reload_conf()")
        end
      end

      # The top-level call of tasker.expand_fan_outs and the statement inside it: calls, rows, ms.
      def expansion_statements
        @ctx.db.with do |c|
          rows = c.exec(<<~SQL)
            SELECT toplevel, calls, rows, total_exec_time AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query
              FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND (query LIKE '%expand_fan_outs%' OR query LIKE '%jsonb_array_elements(t.items)%')
             ORDER BY toplevel DESC, calls DESC
          SQL
          rows.map do |r|
            { "toplevel" => r["toplevel"] == "t", "calls" => r["calls"].to_i, "rows" => r["rows"].to_i,
              "ms" => r["ms"].to_f.round(1), "query" => r["query"] }
          end
        end
      end

      # Waits until the task's step `name` is finished (its result applied, with everything the
      # same transaction did).
      def wait_for_step(uuid, name, timeout: 120)
        deadline = Stats.monotonic + timeout
        @ctx.db.with do |c|
          loop do
            state = c.exec_params("SELECT state FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = $2",
                                  [uuid, name]).getvalue(0, 0)
            return state if TaskerEnv::TERMINAL.include?(state)
            raise "step #{name} of #{uuid} still #{state} after #{timeout}s" if Stats.monotonic > deadline

            sleep 0.02
          end
        end
      end

      def figures(uuid, elements, workers)
        row = @ctx.db.with { |c| c.exec_params(FIGURES_SQL, [uuid]).first }
        seconds = ->(key) { row[key]&.to_f&.round(4) }
        instances = row["instances"].to_i
        result = {
          "task_uuid" => uuid, "elements" => elements, "worker_threads" => workers, "instances" => instances,
          "instance_transactions" => row["instance_transactions"].to_i,
          "fan_out_result_bytes" => row["fan_out_result_bytes"].to_i,
          "expand_seconds" => seconds["expand_seconds"], "enqueue_seconds" => seconds["enqueue_seconds"],
          "first_claim_seconds" => seconds["first_claim_seconds"], "instances_seconds" => seconds["run_seconds"],
          "instance_steps_per_second" => (instances / seconds["run_seconds"]).round(1),
          "expansion_statements" => @expansions
        }.merge(aggregate(row, elements))
        log_run(result)
        result
      end

      # The aggregating step's figures: whole (claim to result applied) and its handler alone.
      def aggregate(row, elements)
        step_ms = row["aggregate_seconds"].to_f * 1000
        handler_ms = row["aggregate_handler_ms"]&.to_f
        { "aggregate_ms" => step_ms.round(1), "aggregate_handler_ms" => handler_ms&.round(1),
          "aggregate_ms_per_element" => (step_ms / elements).round(4),
          "aggregate_handler_ms_per_element" => handler_ms && (handler_ms / elements).round(4),
          "aggregate_result" => JSON.parse(row["aggregate_result"]), "expected_total" => elements * (elements - 1) / 2 }
      end

      FIGURES_SQL = <<~SQL
        WITH f AS (SELECT completed_at, length(results::text) AS result_bytes FROM tasker.workflow_steps
                    WHERE task_uuid = $1 AND name = 'split'),
             i AS (SELECT count(*) AS instances, max(created_at) AS created, max(enqueued_at) AS enqueued,
                          min(started_at) AS first_started, max(completed_at) AS last_completed
                     FROM tasker.workflow_steps WHERE task_uuid = $1 AND element_of = 'element'),
             a AS (SELECT s.step_uuid, s.started_at, s.completed_at, s.results FROM tasker.workflow_steps s
                    WHERE s.task_uuid = $1 AND s.name = 'total')
        SELECT i.instances, f.result_bytes AS fan_out_result_bytes,
               (SELECT count(DISTINCT st.xmin::text) FROM tasker.step_transitions st
                 WHERE st.task_uuid = $1 AND st.from_state IS NULL AND st.reason LIKE 'element % of fan_out step %')
                 AS instance_transactions,
               extract(epoch FROM i.created - f.completed_at) AS expand_seconds,
               extract(epoch FROM i.enqueued - f.completed_at) AS enqueue_seconds,
               extract(epoch FROM i.first_started - f.completed_at) AS first_claim_seconds,
               extract(epoch FROM i.last_completed - i.first_started) AS run_seconds,
               extract(epoch FROM a.completed_at - a.started_at) AS aggregate_seconds,
               (SELECT (st.metadata->>'duration_ms')::float8 FROM tasker.step_transitions st
                 WHERE st.step_uuid = a.step_uuid AND st.to_state = 'complete') AS aggregate_handler_ms,
               a.results::text AS aggregate_result
          FROM f, i, a
      SQL

      def log_run(run)
        @ctx.log(format("fan-out %<n>d: expand %<expand>.3fs (enqueued %<enqueue>.3fs, %<tx>d transaction(s), " \
                        "expand_fan_outs calls %<calls>s), %<rate>.1f instance steps/s, aggregate %<agg>.1f ms " \
                        "(handler %<handler>s ms)",
                        n: run["elements"], expand: run["expand_seconds"], enqueue: run["enqueue_seconds"],
                        tx: run["instance_transactions"], calls: FanoutSummary.expansion(run, "calls"),
                        rate: run["instance_steps_per_second"], agg: run["aggregate_ms"],
                        handler: run["aggregate_handler_ms"]))
        total = run.dig("aggregate_result", "total")
        return if total == run["expected_total"]

        @ctx.log("WARNING: the aggregate summed #{total}, expected #{run["expected_total"]}")
      end

      def summarize(workers, linear, big, small)
        ratio = Stats.ratio(big["instance_steps_per_second"], linear["steps_per_second"])
        @ctx.log("fanout: #{big["instance_steps_per_second"]} instance steps/s vs linear " \
                 "#{linear["steps_per_second"]} steps/s at #{workers} threads (#{ratio} x linear)")
        { "worker_threads" => workers, "linear" => linear, "ratio_to_linear" => ratio, "big" => big,
          "small" => small }
      end
    end
  end
end
