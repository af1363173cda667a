# frozen_string_literal: true

require "fileutils"

module Bench
  # What every section gets: the options, the database, tasker-core's environment, a log,
  # and helpers to start child processes.
  class Context
    ROOT = File.expand_path("../../..", __dir__)

    attr_reader :options, :db, :tasker, :results

    def initialize(options, db)
      @options = options
      @db = db
      @tasker = TaskerEnv.new(db)
      @results = {}
      @started = Stats.monotonic
      FileUtils.mkdir_p(log_dir)
    end

    def log(message)
      elapsed = Stats.monotonic - @started
      $stdout.puts(format("[%<elapsed>6.1fs] %<message>s", elapsed: elapsed, message: message))
      $stdout.flush
    end

    def log_dir
      File.join(ROOT, "tmp", "bench-logs")
    end

    def ruby
      RbConfig.ruby
    end

    # A tasker-core worker process with `concurrency` executor threads.
    def tasker_worker(concurrency, namespaces: TaskerEnv::NAMESPACES)
      Child.start("tasker worker", { "BENCH_TASKER_URL" => tasker.url },
                  [ruby, "-I#{File.join(ROOT, "lib")}", File.join(ROOT, "bench/bin/tasker_worker.rb"),
                   concurrency.to_s, *namespaces],
                  log: File.join(log_dir, "tasker_worker.log"))
    end
  end
end
