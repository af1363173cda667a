# frozen_string_literal: true

require "fileutils"

module Bench
  module Sections
    # The same shape of work in the job systems users would pick instead, on the same machine:
    # a chain of 4 jobs, each enqueuing the next (the linear workflow's 4 steps).
    # - delayed_job 4.1 with its ActiveRecord backend, on the same PostgreSQL (its own database),
    #   N worker processes (delayed_job's normal deployment: one job at a time per process),
    #   sleep_delay 0.1 s (its default is 5 s);
    # - Sidekiq 6 with Redis 7 on loopback, one sidekiq process with concurrency N; Redis with
    #   --save "" --appendonly no (nothing on disk), and once with --appendonly yes
    #   --appendfsync everysec at Sidekiq's best N.
    # Throughput: `peer_chains` chains enqueued from 2 threads while the workers run, from the
    # first enqueue to the last chain's completion. Latency: one chain at a time, N = 4.
    class Peers
      attr_accessor :prior

      LATENCY_WORKERS = 4
      STEPS = 4
      ENQUEUERS = 2
      DJ_SLEEP = 0.1
      REDIS_PORT = Integer(ENV.fetch("BENCH_REDIS_PORT", "6390"))

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        {
          "chain_steps" => STEPS, "chains" => @ctx.options[:peer_chains], "enqueuers" => ENQUEUERS,
          "delayed_job" => guarded("delayed_job") { delayed_job },
          "sidekiq" => guarded("sidekiq") { sidekiq }
        }
      end

      private

      def guarded(name)
        yield
      rescue StandardError => e
        @ctx.log("peers: #{name} FAILED: #{e.class}: #{e.message}\n  #{e.backtrace.first(6).join("\n  ")}")
        { "error" => "#{e.class}: #{e.message}" }
      end

      # --- delayed_job -------------------------------------------------------------------------

      def delayed_job
        require_relative "../../../peers/delayed_job_app"
        BenchDelayedJob.connect(@ctx.db.dj_url, pool: ENQUEUERS + 2)
        BenchDelayedJob.create_schema!
        result = dj_setup
        @ctx.options[:workers].each do |n|
          BenchDelayedJob.reset!
          workers = start_dj_workers(n)
          result["throughput"][n.to_s] = dj_throughput(n)
          workers.each(&:stop)
        end
        BenchDelayedJob.reset!
        workers = start_dj_workers(LATENCY_WORKERS)
        result["latency"] = dj_latency
        workers.each(&:stop)
        BenchDelayedJob.reset!
        result
      ensure
        ActiveRecord::Base.connection_pool.disconnect! if defined?(ActiveRecord::Base)
      end

      # What was measured: delayed_job's version and backend, how its workers ran.
      def dj_setup
        { "version" => Gem.loaded_specs["delayed_job"]&.version.to_s,
          "backend" => "delayed_job_active_record #{Gem.loaded_specs["delayed_job_active_record"]&.version} " \
                       "(ActiveRecord #{ActiveRecord::VERSION::STRING})",
          "workers" => "N processes x 1 job at a time", "sleep_delay" => DJ_SLEEP, "throughput" => {} }
      end

      def start_dj_workers(count)
        Array.new(count) do
          Child.start("delayed_job worker", { "BENCH_DJ_URL" => @ctx.db.dj_url, "BENCH_DJ_SLEEP" => DJ_SLEEP.to_s },
                      [@ctx.ruby, File.join(Context::ROOT, "bench/peers/delayed_job_worker.rb")],
                      log: File.join(@ctx.log_dir, "delayed_job.log"))
        end
      end

      def dj_throughput(workers)
        chains = @ctx.options[:peer_chains]
        conn = ActiveRecord::Base.connection
        started = conn.select_value("SELECT extract(epoch FROM clock_timestamp())").to_f
        each_split(chains) do |i|
          ActiveRecord::Base.connection_pool.with_connection { Delayed::Job.enqueue(ChainJob.new(i, 1, STEPS)) }
        end
        deadline = Stats.monotonic + 60 + chains
        loop do
          done = conn.select_value("SELECT count(*) FROM bench_chain_done").to_i
          break if done >= chains
          raise "delayed_job: #{done} of #{chains} chains after the deadline" if Stats.monotonic > deadline

          sleep 0.05
        end
        finished = conn.select_value("SELECT extract(epoch FROM max(done_at)) FROM bench_chain_done").to_f
        rate_row("delayed_job", workers, chains, finished - started)
      end

      def dj_latency
        listener = @ctx.db.connect(@ctx.db.dj_url, name: "bench dj listener")
        listener.exec("LISTEN bench_chain_done")
        db_ms, wall = time_chains("delayed_job") do |chain_id|
          Delayed::Job.enqueue(ChainJob.new(chain_id, 1, STEPS))
          done_at = nil
          listener.wait_for_notify(30) { |_, _, payload| done_at = payload.split.last.to_f }
          done_at
        end
        listener.close
        latency_row("delayed_job", db_ms, wall)
      end

      # --- Sidekiq -----------------------------------------------------------------------------

      def sidekiq
        ENV["BENCH_REDIS_URL"] = "redis://127.0.0.1:#{REDIS_PORT}/0"
        require_relative "../../../peers/sidekiq_app"
        result = sidekiq_setup
        redis = start_redis(aof: false)
        result["redis"] = redis_version
        @ctx.options[:workers].each do |n|
          result["throughput"][n.to_s] = with_sidekiq(n) { sidekiq_throughput(n) }
        end
        result["latency"] = with_sidekiq(LATENCY_WORKERS) { sidekiq_latency }
        redis.stop
        best = result["throughput"].max_by { |_, r| r["jobs_per_second"] }[0].to_i
        redis = start_redis(aof: true)
        result["aof_everysec"] = aof_throughput(best)
        result
      ensure
        redis&.stop
      end

      # The throughput at Sidekiq's best concurrency, Redis appending to its file every second.
      def aof_throughput(best)
        row = with_sidekiq(best) { sidekiq_throughput(best) }
        row.merge("durability" => "redis --appendonly yes --appendfsync everysec")
      end

      # What was measured: Sidekiq's version, how it ran, Redis without persistence.
      def sidekiq_setup
        { "version" => Sidekiq::VERSION, "redis" => nil, "workers" => "1 process x N threads",
          "durability" => "redis --save \"\" --appendonly no (nothing written to disk)", "throughput" => {} }
      end

      def start_redis(aof:)
        dir = File.join(Context::ROOT, "tmp", "bench-redis")
        FileUtils.rm_rf(dir)
        FileUtils.mkdir_p(dir)
        durability = aof ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"]
        Child.start("redis-server", {},
                    ["redis-server", "--port", REDIS_PORT.to_s, "--bind", "127.0.0.1", "--save", "",
                     "--dir", dir, "--daemonize", "no", "--logfile", "", *durability],
                    ready: /Ready to accept connections/, timeout: 20, log: File.join(@ctx.log_dir, "redis.log"))
      end

      def redis_version
        Sidekiq.redis { |r| r.info["redis_version"] }
      end

      def with_sidekiq(concurrency)
        Sidekiq.redis(&:flushdb)
        child = Child.start("sidekiq", { "BENCH_REDIS_URL" => ENV.fetch("BENCH_REDIS_URL") },
                            ["sidekiq", "-r", File.join(Context::ROOT, "bench/peers/sidekiq_app.rb"),
                             "-c", concurrency.to_s, "-q", "bench_chain", "-t", "5"],
                            log: File.join(@ctx.log_dir, "sidekiq.log"))
        yield
      ensure
        child&.stop
      end

      def sidekiq_throughput(workers)
        chains = @ctx.options[:peer_chains]
        started = Time.now.to_f
        each_split(chains) { |i| ChainWorker.perform_async(i, 1, STEPS) }
        deadline = Stats.monotonic + 60 + chains
        loop do
          done = Sidekiq.redis { |r| r.llen("bench:done") }
          break if done >= chains
          raise "sidekiq: #{done} of #{chains} chains after the deadline" if Stats.monotonic > deadline

          sleep 0.05
        end
        finished = Sidekiq.redis { |r| r.lrange("bench:done", 0, -1) }.map { |l| l.split.last.to_f }.max
        rate_row("sidekiq", workers, chains, finished - started)
      end

      def sidekiq_latency
        db_ms, wall = time_chains("sidekiq") do |chain_id|
          ChainWorker.perform_async(chain_id, 1, STEPS)
          popped = Sidekiq.redis { |r| r.blpop("bench:done", timeout: 30) }
          popped&.last&.split&.last&.to_f
        end
        latency_row("sidekiq", db_ms, wall)
      end

      # --- shared --------------------------------------------------------------------------------

      def each_split(count, &block)
        Array.new(ENQUEUERS) do |t|
          Thread.new { (t...count).step(ENQUEUERS) { |i| block.call(i) } }
        end.each(&:join)
      end

      # Runs `peer_latency` chains one at a time, after 3 to warm up: the block enqueues the chain
      # with the id it is given and returns the epoch time its last job finished (nil if it did
      # not within 30 s). Returns each chain's enqueue -> done by that time, and by the wall
      # clock (ms).
      def time_chains(name)
        db_ms = []
        wall = []
        (@ctx.options[:peer_latency] + 3).times do |i|
          t0 = Time.now.to_f
          mono = Stats.monotonic
          done_at = yield(100_000 + i)
          raise "#{name} chain #{i} did not finish in 30 s" unless done_at
          next if i < 3 # warm-up

          wall << ((Stats.monotonic - mono) * 1000.0)
          db_ms << ((done_at - t0) * 1000.0)
          sleep 0.01
        end
        [db_ms, wall]
      end

      def rate_row(name, workers, chains, seconds)
        jobs = chains * STEPS
        rate = jobs / seconds
        @ctx.log(format("%<name>-11s workers=%<workers>d: %<rate>7.1f jobs/s (%<jobs>d jobs in %<seconds>.2fs)",
                        name: name, workers: workers, rate: rate, jobs: jobs, seconds: seconds))
        { "jobs" => jobs, "seconds" => seconds.round(3), "jobs_per_second" => rate.round(1),
          "worker_threads" => workers }
      end

      def latency_row(name, done_ms, wall)
        row = { "samples" => done_ms.size, "worker_threads" => LATENCY_WORKERS,
                "chain_ms" => Stats.summary(done_ms), "wall_ms" => Stats.summary(wall) }
        @ctx.log("#{name} chain latency p50 #{row["chain_ms"]["p50"]} ms p99 #{row["chain_ms"]["p99"]} ms " \
                 "(wall p50 #{row["wall_ms"]["p50"]} p99 #{row["wall_ms"]["p99"]})")
        row
      end
    end
  end
end
