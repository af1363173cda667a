# frozen_string_literal: true

# An orchestrator process of the fault suite: `ruby spec/faults/bin/orchestrator.rb` with
# DATABASE_URL in the environment. Prints "ready PID" once started.
$LOAD_PATH.unshift File.expand_path("../../../lib", __dir__)
require "tasker_core"

TaskerCore.configure do |c|
  c.database_url = ENV.fetch("DATABASE_URL")
  c.log_level = ENV.fetch("TASKER_LOG_LEVEL", "error")
  c.logger.level = Logger::ERROR
  c.sweep_interval = 1.0
  c.claim_grace_seconds = 5.0
end
TaskerCore::Orchestrator.start
stop = Queue.new
%w[TERM INT].each { |signal| trap(signal) { stop << signal } }
$stdout.puts "ready #{Process.pid}"
$stdout.flush
stop.pop
TaskerCore::Orchestrator.stop(timeout: 5)
