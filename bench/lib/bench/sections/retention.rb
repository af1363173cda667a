# frozen_string_literal: true

module Bench
  module Sections
    # TaskerCore.purge of `retention_steps` finished steps (built as the history section builds
    # them, completed 1 to 30 days ago) while the linear throughput workload runs; then the same
    # workload again with nothing to purge. Reports the purge's rate and both throughputs.
    class Retention
      attr_accessor :prior

      # The history is at least a day old; the workload's own tasks are minutes old and stay.
      OLDER_THAN = 3600

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        env = @ctx.tasker
        env.start_orchestrator
        history = History.new(@ctx).tap { |h| h.prior = prior }
        workers = history.best_workers
        env.reset!
        fill = history.build(@ctx.options[:retention_steps])
        during, purge = measure_while_purging(workers)
        after = Throughput.measure(@ctx, "linear", workers, mode: :process, keep_history: true)
        summarize(workers, fill, purge, during, after)
      end

      private

      # The purge runs on a thread of this process (the core releases the GVL); the workload's
      # workers are processes of their own.
      def measure_while_purging(workers)
        purger = Thread.new do
          started = Stats.monotonic
          counts = TaskerCore.purge(older_than: OLDER_THAN)
          counts.merge("seconds" => (Stats.monotonic - started).round(2))
        end
        during = Throughput.measure(@ctx, "linear", workers, mode: :process, keep_history: true)
        purge = purger.value
        purge["steps_per_second"] = (purge["workflow_steps"] / purge["seconds"]).round(1)
        [during, purge]
      end

      def summarize(workers, fill, purge, during, after)
        ratio = Stats.ratio(during["steps_per_second"], after["steps_per_second"])
        overlap = [during["wall_seconds"] / purge["seconds"], 1.0].min.round(2)
        @ctx.log("retention: purged #{purge["workflow_steps"]} steps in #{purge["seconds"]} s " \
                 "(#{purge["steps_per_second"]} steps/s); workload #{during["steps_per_second"]} steps/s while " \
                 "purging, #{after["steps_per_second"]} after (ratio #{ratio})")
        { "worker_threads" => workers, "batch_size" => TaskerCore::Retention::BATCH_SIZE, "build" => fill,
          "purge" => purge, "during_purge" => during, "after_purge" => after, "ratio" => ratio,
          "workload_share_of_purge_time" => overlap }
      end
    end
  end
end
