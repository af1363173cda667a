# frozen_string_literal: true

# Medians of each part of a metrics scrape against the database metrics_history.sql filled:
#   TASKER_PG_PORT=... ruby -Ilib bench/scratch/metrics_time.rb [RUNS] [DBNAME]
require "tasker_core"

runs = Integer(ARGV.fetch(0, "11"))
url = "postgresql://postgres@127.0.0.1:#{ENV.fetch("TASKER_PG_PORT")}/#{ARGV.fetch(1, "metrics_bench")}"
TaskerCore.configure do |c|
  c.database_url = url
  c.template_paths = []
  c.log_level = "warn"
end
conn = TaskerCore::StatusQueries.connect(url, redacted_url: url, application_name: "metrics timing")
queries = TaskerCore::StatusQueries.new(conn)
watermark = ->(ago) { queries.counts_identity(ago_seconds: ago)["watermark"] }

median = lambda do |work|
  work.call
  times = Array.new(runs) do
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    work.call
    (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000
  end
  times.sort[runs / 2].round(1)
end

{
  "full count (tasker.state_counts from nil)" => -> { queries.state_counts(from: nil, to: watermark.call(60)) },
  "a scrape's counts (Metrics::StateCounts)" => -> { TaskerCore::Metrics::StateCounts.read(queries) },
  "queue figures" => -> { queries.queues },
  "step durations" => -> { queries.step_durations(window_seconds: 300, horizon_seconds: 3600) },
  "TaskerCore.metrics (own connection)" => -> { TaskerCore.metrics }
}.each { |label, work| puts format("%-45<label>s %8<ms>.1f ms", label: label, ms: median.call(work)) }
conn.close
