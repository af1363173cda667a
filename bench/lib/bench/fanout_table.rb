# frozen_string_literal: true

require_relative "figures"
require_relative "fanout_summary"

module Bench
  # The fanout section's table in results.md: one column per run (elements), one row per
  # figure, then the notes (the linear run it is compared with, the dashboard's timings).
  class FanoutTable
    include Figures

    def initialize(fanout)
      @fanout = fanout
    end

    FANOUT_ROWS = [
      ["the fan_out step returns", ->(run) { run["fan_out_result"] }],
      ["its result (bytes; every instance's claim carries it)", ->(run) { run["fan_out_result_bytes"] }],
      ["instances created", ->(run) { run["instances"] }],
      ["expand: fan_out complete -> last instance created (s)", ->(run) { run["expand_seconds"] }],
      ["fan_out complete -> last instance enqueued (s)", ->(run) { run["enqueue_seconds"] }],
      ["fan_out complete -> first instance claimed (s)", ->(run) { run["first_claim_seconds"] }],
      ["transactions that created the instances", ->(run) { run["instance_transactions"] }],
      ["expand_fan_outs calls (pg_stat_statements)", ->(run) { FanoutSummary.expansion(run, "calls") }],
      ["statements run inside it", ->(run) { FanoutSummary.expansion(run, "calls", toplevel: false) }],
      ["expand_fan_outs time (ms)", ->(run) { FanoutSummary.expansion(run, "ms") }],
      ["instances: first claimed -> last complete (s)", ->(run) { run["instances_seconds"] }],
      ["instance steps/s", ->(run) { run["instance_steps_per_second"] }],
      ["aggregate step: started_at -> completed_at (ms)", ->(run) { run["aggregate_ms"] }],
      ["aggregate step, per element (ms)", ->(run) { run["aggregate_ms_per_element"] }],
      ["aggregate handler duration_ms", ->(run) { run["aggregate_handler_ms"] }],
      ["aggregate handler, per element (ms)", ->(run) { run["aggregate_handler_ms_per_element"] }]
    ].freeze

    def to_a
      f = @fanout
      return [] unless f && f["big"]

      columns = [f["big"], f["big_with_own_result"], f["small"]].compact
      ["## Fan-out", "", "#{FanoutSummary.summary(f)}.", "",
       "| one task, #{f["worker_threads"]} worker threads | " \
       "#{columns.map { |c| "#{c["elements"]} elements" }.join(" | ")} |",
       "|---|#{"---:|" * columns.size}",
       *FANOUT_ROWS.map { |name, value| "| #{name} | #{columns.map { |c| value.call(c) }.join(" | ")} |" },
       "", *fanout_notes(f), ""]
    end

    def fanout_notes(fanout)
      d = fanout.dig("big", "dashboard")
      linear = fanout["linear"]
      notes = ["Linear workflow in the same run at the same worker count: #{fmt(linear["steps_per_second"])} " \
               "steps/s; instances #{fanout["ratio_to_linear"]} x linear. Database clock throughout."]
      return notes unless d

      notes << "" << "Dashboard, the #{fanout.dig("big", "elements")}-element task (median of " \
                     "#{Sections::Fanout::PAGE_SAMPLES}, over HTTP): task page #{d.dig("task_page", "median_ms")} ms " \
                     "(#{d.dig("task_page", "bytes")} bytes), a page of its instances " \
                     "#{d.dig("instances_page", "median_ms")} ms (#{d.dig("instances_page", "bytes")} bytes), " \
                     "/api/tasks/:uuid #{d.dig("api_task", "median_ms")} ms " \
                     "(#{d.dig("api_task", "bytes")} bytes), collapsed as the page polls it " \
                     "#{d.dig("api_task_collapsed", "median_ms")} ms " \
                     "(#{d.dig("api_task_collapsed", "bytes")} bytes); " \
                     "alone: the page's status #{d["task_page_status_ms"]} ms, TaskerCore.task_status " \
                     "#{d["task_status_ms"]} ms, the DAG's layout #{d["graph_ms"]} ms, " \
                     "the transitions query #{d["transitions_ms"]} ms. workflow_steps " \
                     "#{d["steps_statistics"] ? "had" : "had no"} statistics yet (autovacuum's ANALYZE)."
    end
  end
end
