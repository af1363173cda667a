# frozen_string_literal: true

# A worker in its own Ruby process, for spec/integration/process_split_spec.rb:
#
#   DATABASE_URL=... ruby -Ilib spec/integration/worker_process.rb ns1 ns2 ...
#
# Loads the example handlers, starts a worker on the given namespaces, prints "ready <pid>"
# and runs until SIGTERM/SIGINT, then stops gracefully, prints its stats and exits 0.
require "json"
require "tasker_core"
require_relative "../../examples/expected_results"

$stdout.sync = true
TaskerCore.configure { |config| config.database_url = ENV.fetch("DATABASE_URL") }
Examples.load_handlers

worker = TaskerCore::Worker.start(namespaces: ARGV, concurrency: Integer(ENV.fetch("CONCURRENCY", "4")))
%w[TERM INT].each { |signal| Signal.trap(signal) { worker.stop(timeout: 10) } }
puts "ready #{Process.pid}"
worker.wait
puts "stats #{JSON.generate(worker.stats)}"
exit 0
