# frozen_string_literal: true

require "optparse"

module Bench
  # What to run and how much of it. The full run is the default; --quick shrinks every count.
  class Options
    SECTIONS = %w[limit creation throughput latency profile history retention fanout memory peers].freeze

    FULL = { tasks: 500, workers: [1, 2, 4, 8], latency_samples: 200, creation_calls: 500,
             limit_seconds: 5.0, history_steps: 1_000_000, peer_chains: 500, peer_latency: 150,
             profile_tasks: 200, memory_tasks: 200, retention_steps: 1_000_000,
             fanout_elements: 10_000 }.freeze
    QUICK = { tasks: 50, workers: [1, 2, 4, 8], latency_samples: 20, creation_calls: 100,
              limit_seconds: 1.0, history_steps: 50_000, peer_chains: 50, peer_latency: 20,
              profile_tasks: 40, memory_tasks: 50, retention_steps: 50_000,
              fanout_elements: 1_000 }.freeze

    attr_reader :sections, :out_dir, :quick, :in_process, :fsync_test

    def initialize(argv)
      @quick = false
      @sections = SECTIONS.dup
      @overrides = {}
      @out_dir = nil
      @in_process = true
      @fsync_test = true
      parser.parse!(argv)
      @values = (@quick ? QUICK : FULL).merge(@overrides)
      @out_dir ||= File.expand_path(@quick ? "../../../tmp/bench-quick" : "../../../docs/bench", __dir__)
    end

    def [](key)
      @values.fetch(key)
    end

    def to_h
      @values.merge(quick: @quick, sections: @sections)
    end

    def run?(section)
      @sections.include?(section)
    end

    private

    def parser
      OptionParser.new do |opts|
        opts.banner = "usage: bin/bench [options]\n\n" \
                      "Runs the tasker-core benchmark on a private PostgreSQL (or $BENCH_DATABASE_URL) and\n" \
                      "writes docs/bench/results.{json,md} and docs/bench/throughput.png.\n\n"
        selection_options(opts)
        count_options(opts)
        variant_options(opts)
      end
    end

    def selection_options(opts)
      opts.on("--quick", "small counts for a smoke test; writes to tmp/bench-quick/") { @quick = true }
      opts.on("--only LIST", Array, "sections to run: #{SECTIONS.join(",")}") do |list|
        unknown = list - SECTIONS
        raise OptionParser::InvalidArgument, "unknown section(s) #{unknown.join(",")}" if unknown.any?

        @sections = SECTIONS & list
      end
    end

    def count_options(opts)
      opts.on("--tasks N", Integer, "tasks per throughput run (500)") { |n| @overrides[:tasks] = n }
      opts.on("--workers LIST", Array, "worker thread counts (1,2,4,8)") do |list|
        @overrides[:workers] = list.map { |n| Integer(n) }
      end
      opts.on("--latency-samples N", Integer, "tasks for the latency section (200)") do |n|
        @overrides[:latency_samples] = n
      end
      opts.on("--history-steps N", Integer, "finished steps put in the tables (1000000)") do |n|
        @overrides[:history_steps] = n
      end
      opts.on("--retention-steps N", Integer, "finished steps the retention section purges (1000000)") do |n|
        @overrides[:retention_steps] = n
      end
      opts.on("--fanout-elements N", Integer, "elements of the fanout section's big fan-out (10000)") do |n|
        @overrides[:fanout_elements] = n
      end
      opts.on("--peer-chains N", Integer, "4-job chains per peer throughput run (500)") do |n|
        @overrides[:peer_chains] = n
      end
      opts.on("--limit-seconds S", Float, "seconds per L measurement (5)") { |s| @overrides[:limit_seconds] = s }
    end

    def variant_options(opts)
      opts.on("--no-in-process", "skip the worker-in-the-bench-process variant") { @in_process = false }
      opts.on("--no-fsync-test", "skip pg_test_fsync in the profile") { @fsync_test = false }
      opts.on("--out DIR", "where results go (docs/bench; tmp/bench-quick with --quick)") { |dir| @out_dir = dir }
      opts.on("-h", "--help", "this text") do
        puts opts
        exit
      end
    end
  end
end
