# frozen_string_literal: true

# The batched purge (TaskerCore.purge) of the tasks finished before a time, timed:
#   TASKER_PG_PORT=... ruby -Ilib bench/scratch/partman_purge.rb 2026-11-02T00:00:00Z [DBNAME]
require "tasker_core"
require "time"

url = "postgresql://postgres@127.0.0.1:#{ENV.fetch("TASKER_PG_PORT")}/#{ARGV.fetch(1, "partman_bench")}"
TaskerCore.configure do |c|
  c.database_url = url
  c.template_paths = []
  c.log_level = "warn"
end
cutoff = Time.parse(ARGV.fetch(0))
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
counts = TaskerCore.purge(older_than: Time.now - cutoff)
seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
puts counts.merge("seconds" => seconds.round(2), "steps_per_second" => (counts["workflow_steps"] / seconds).round)
