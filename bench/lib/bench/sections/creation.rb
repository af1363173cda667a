# frozen_string_literal: true

module Bench
  module Sections
    # create_task calls per second from 1 and from 4 Ruby threads of one process (the call
    # releases the GVL while Rust talks to PostgreSQL). No worker runs; the orchestrator does.
    class Creation
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
        env.reset!
        result
      end
    end
  end
end
