# frozen_string_literal: true

module Bench
  module Sections
    # create_task calls per second from 1 and from 4 Ruby threads of one process (the call
    # releases the GVL while Rust talks to PostgreSQL), and create_tasks' tasks per second in
    # batches of BATCH from one thread. No worker runs; the orchestrator does.
    class Creation
      BATCH = 100

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        env = @ctx.tasker
        env.start_orchestrator
        calls = @ctx.options[:creation_calls]
        result = { "calls" => calls, "workflow" => "linear", "calls_per_second" => {} }
        [1, 4].each do |threads|
          env.reset!
          env.create_many("linear", 5, threads: 1) # warm the pool
          uuids, seconds = env.create_many("linear", calls, threads: threads)
          rate = uuids.size / seconds
          result["calls_per_second"][threads.to_s] = rate.round(1)
          line = "create_task from %<threads>d thread(s): %<rate>.1f calls/s (%<calls>d calls in %<seconds>.2fs)"
          @ctx.log(format(line, threads: threads, rate: rate, calls: uuids.size, seconds: seconds))
        end
        result["create_tasks"] = batches(env, calls, result["calls_per_second"]["1"])
        env.reset!
        result
      end

      # The same count of the same tasks by create_tasks in batches of BATCH from one thread:
      # tasks/s and its ratio to create_task's calls/s from one thread.
      def batches(env, calls, single)
        env.reset!
        env.create_batches("linear", 5, batch: 5) # warm the pool
        uuids, seconds = env.create_batches("linear", calls, batch: BATCH)
        rate = uuids.size / seconds
        ratio = Stats.ratio(rate, single)
        line = "create_tasks in batches of %<batch>d from 1 thread: %<rate>.1f tasks/s (%<calls>d tasks in " \
               "%<seconds>.2fs) = %<ratio>s x create_task from 1 thread"
        @ctx.log(format(line, batch: BATCH, rate: rate, calls: uuids.size, seconds: seconds, ratio: ratio))
        { "batch" => BATCH, "tasks" => uuids.size, "tasks_per_second" => rate.round(1), "ratio_to_single" => ratio }
      end
    end
  end
end
