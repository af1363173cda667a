# frozen_string_literal: true

module Bench
  module Sections
    # RSS (VmRSS) of a fresh Ruby process before and after TaskerCore::Orchestrator.start, idle and
    # after it processed a batch of linear tasks (the bench's own orchestrator is stopped so the
    # probe's does the work), and of a worker process with 4 threads, idle and after the batch.
    class Memory
      attr_accessor :prior

      WORKER_THREADS = 4
      IDLE_SECONDS = 2

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        env = @ctx.tasker
        env.stop_orchestrator
        env.reset!
        tasks = @ctx.options[:memory_tasks]
        probe = start_probe
        rss = probe_until_idle(probe)
        worker = @ctx.tasker_worker(WORKER_THREADS)
        sleep IDLE_SECONDS
        worker_rss = { "idle" => worker.rss_mb }
        env.create_many("linear", tasks, threads: 2)
        env.wait_all("linear", tasks, timeout: 120)
        sleep 0.5
        rss["orchestrator_after_tasks"] = Child.rss_mb(probe.pid)
        worker_rss["after_tasks"] = worker.rss_mb
        worker.stop
        stop_probe(probe)
        env.reset!
        summarize(tasks, rss, worker_rss)
      end

      private

      def start_probe
        script = File.join(Context::ROOT, "bench/bin/memory_probe.rb")
        IO.popen({ "BENCH_TASKER_URL" => @ctx.db.tasker_url },
                 [@ctx.ruby, "-I#{File.join(Context::ROOT, "lib")}", script], "r+")
      end

      # Steps the probe through bare Ruby, tasker_core loaded and configured, and its orchestrator
      # started and idle; returns its RSS at each.
      def probe_until_idle(probe)
        rss = {}
        expect(probe, "bare")
        rss["bare_ruby"] = Child.rss_mb(probe.pid)
        probe.puts("go")
        expect(probe, "loaded")
        rss["after_require_and_configure"] = Child.rss_mb(probe.pid)
        probe.puts("start")
        expect(probe, "started")
        sleep IDLE_SECONDS
        rss["orchestrator_idle"] = Child.rss_mb(probe.pid)
        rss
      end

      def stop_probe(probe)
        probe.puts("stop")
        expect(probe, "stopped")
        probe.close
      end

      def summarize(tasks, rss, worker_rss)
        base = rss["after_require_and_configure"]
        overhead = { "idle" => (rss["orchestrator_idle"] - base).round(1),
                     "after_tasks" => (rss["orchestrator_after_tasks"] - base).round(1) }
        @ctx.log("memory: probe #{rss}; orchestrator adds #{overhead}; worker(4) #{worker_rss["idle"]} MB idle, " \
                 "#{worker_rss["after_tasks"]} MB after #{tasks} tasks")
        { "tasks" => tasks, "probe_rss_mb" => rss, "orchestrator_overhead_mb" => overhead,
          "worker_threads" => WORKER_THREADS, "worker_rss_mb" => worker_rss }
      end

      def expect(io, word)
        line = io.gets
        raise "memory probe said #{line.inspect}, expected #{word}" unless line&.strip == word
      end
    end
  end
end
