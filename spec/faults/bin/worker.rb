# frozen_string_literal: true

# A worker process of the fault suite: `ruby spec/faults/bin/worker.rb` with DATABASE_URL,
# NAMESPACES and CONCURRENCY in the environment. Prints "ready PID" once polling.
$LOAD_PATH.unshift File.expand_path("../../../lib", __dir__)
require "tasker_core"
require_relative "../support/fault_handlers"

TaskerCore.configure do |c|
  c.database_url = ENV.fetch("DATABASE_URL")
  c.log_level = ENV.fetch("TASKER_LOG_LEVEL", "error")
  c.logger.level = Logger::ERROR
end
worker = TaskerCore::Worker.start(namespaces: ENV.fetch("NAMESPACES").split(","),
                                  concurrency: Integer(ENV.fetch("CONCURRENCY", "2")),
                                  visibility_timeout: 2, poll_interval: 0.25)
stop = Queue.new
%w[TERM INT].each { |signal| trap(signal) { stop << signal } }
$stdout.puts "ready #{Process.pid}"
$stdout.flush
stop.pop
worker.stop(timeout: 5)
