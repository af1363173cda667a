# frozen_string_literal: true

# The benchmark's driver: bin/bench starts PostgreSQL, then runs this. See bin/bench --help.

$LOAD_PATH.unshift(File.expand_path("lib", __dir__))
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "bench/options"

options = Bench::Options.new(ARGV)

require "bench/stats"
require "bench/database"
require "bench/child"
require "bench/tasker_env"
require "bench/context"
require "bench/report"
require "bench/profile_report"
require "bench/chart"
Dir[File.join(__dir__, "lib/bench/sections/*.rb")].each { |file| require file }

module Bench
  # Runs the selected sections in a fixed order, then writes the report.
  class Runner
    ORDER = [
      ["limit", Sections::Limit], ["creation", Sections::Creation], ["throughput", Sections::Throughput],
      ["latency", Sections::Latency], ["profile", Sections::Profile], ["history", Sections::History],
      ["retention", Sections::Retention], ["fanout", Sections::Fanout], ["memory", Sections::Memory],
      ["peers", Sections::Peers]
    ].freeze

    def initialize(options)
      @options = options
      @db = Database.new
      @ctx = Context.new(options, @db)
    end

    def run
      results = { "meta" => prepare }
      ORDER.each do |name, klass|
        results[name] = run_section(name, klass, results) if @options.run?(name)
      end
      results["meta"]["total_seconds"] = (Stats.monotonic - @ctx.instance_variable_get(:@started)).round(1)
      @ctx.tasker.stop_orchestrator
      Report.new(@ctx, results).write
    end

    private

    # A new database with tasker-core set up in it; returns the run's meta (aborts if the native
    # extension is stale, unless BENCH_ALLOW_STALE).
    def prepare
      @ctx.log("tasker-core bench: #{@options.quick ? "quick" : "full"} run, " \
               "sections #{@options.sections.join(",")}, database #{@db.redacted}")
      @db.recreate!
      @ctx.tasker.setup!
      meta = Report.meta(@ctx)
      if @ctx.tasker.stale_extension && !ENV["BENCH_ALLOW_STALE"]
        abort "bin/bench: #{@ctx.tasker.stale_extension}; BENCH_ALLOW_STALE=1 to measure anyway"
      end
      meta
    end

    # One section's results (the sections before it in `results`), with how long it took and the
    # load average it started at; only its error if it failed.
    def run_section(name, klass, results)
      load = File.read("/proc/loadavg").split.first(3).map(&:to_f)
      @ctx.log("== #{name} (load average #{load.join(" ")})")
      started = Stats.monotonic
      section = klass.new(@ctx).tap { |s| s.prior = results if s.respond_to?(:prior=) }.run
      section["section_seconds"] = (Stats.monotonic - started).round(1)
      section["load_average_at_start"] = load
      section
    rescue StandardError => e
      @ctx.log("#{name} FAILED: #{e.class}: #{e.message}\n  #{e.backtrace.first(8).join("\n  ")}")
      { "error" => "#{e.class}: #{e.message}" }
    end
  end
end

at_exit { Bench::Child.stop_all }
Bench::Runner.new(options).run
