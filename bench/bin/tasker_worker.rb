# frozen_string_literal: true

# A tasker-core worker process for the bench: the example handlers and the fanout section's,
# TaskerCore::Worker with the given concurrency on the given namespaces (default: linear and
# diamond). Prints "ready" once started; stops gracefully on TERM or INT.
#
#   BENCH_TASKER_URL=postgresql://... ruby -Ilib bench/bin/tasker_worker.rb CONCURRENCY [NAMESPACE...]

$stdout.sync = true
concurrency = Integer(ARGV.fetch(0, "4"))
namespaces = ARGV.drop(1)
namespaces = %w[linear_workflow diamond_workflow] if namespaces.empty?

require "tasker_core"
require_relative "../../examples/expected_results"
require_relative "../lib/bench/fanout_handlers"

TaskerCore.configure do |c|
  c.database_url = ENV.fetch("BENCH_TASKER_URL")
  c.template_paths = []
  c.log_level = "warn"
  c.logger.level = Logger::WARN
end
Examples.load_handlers

worker = TaskerCore::Worker.start(namespaces: namespaces, concurrency: concurrency)
%w[TERM INT].each { |signal| trap(signal) { worker.stop(timeout: 10) } }
puts "ready #{Process.pid}"
worker.wait
warn "bench worker #{Process.pid}: #{worker.stats}" if ENV["BENCH_VERBOSE"]
