# frozen_string_literal: true

require "tasker_core/status_queries"
require "tasker_core/metrics/prometheus"
require "tasker_core/metrics/state_counts"

module TaskerCore
  # TaskerCore.metrics and the dashboard's GET /metrics: what the database says now, read
  # through TaskerCore::StatusQueries (the queries `tasker-core status` uses), plus the
  # counters of the orchestrator running in this process, if one is.
  #   "tasks"          [{namespace, name, state, count}]: every task, by template and state
  #   "steps"          {state => count}, every step state (both through Metrics::StateCounts,
  #                     which reads the finished history in full at most every 10 minutes)
  #   "queues"         [{queue_name, depth, visible, delayed, in_flight, max_read_ct,
  #                     oldest_age_seconds, archived, kind, namespace}]
  #   "step_durations" {window_seconds, horizon_seconds, templates: [{namespace, name, steps,
  #                     sum_seconds, p50, p90, p99}]}: steps completed in the last window
  #   "replication"    {replica, lag_seconds, replay_lag_bytes}: whether these figures come from
  #                     a streaming replica, and how far behind the primary it is (nil on the primary)
  #   "orchestrator"   TaskerCore::Orchestrator.status, or nil when none runs in this process
  class Metrics
    # Step durations cover the steps completed in the last five minutes, among those created
    # in the last hour (see sql/step_durations.sql).
    WINDOW_SECONDS = 300
    HORIZON_SECONDS = 3600

    def initialize(queries)
      @queries = queries
    end

    def collect
      tasks, steps = StateCounts.read(@queries)
      { "tasks" => tasks, "steps" => steps, "queues" => @queries.queues,
        "step_durations" => step_durations, "replication" => @queries.replication,
        "orchestrator" => TaskerCore::Orchestrator.status }
    end

    # The metrics of the configured database, read on a read-only connection of its own (to the
    # replica when read_database_url is set).
    def self.read(configuration)
      conn = StatusQueries.connect(configuration.read_url, redacted_url: configuration.redacted_read_url,
                                                           application_name: "tasker-core metrics")
      new(StatusQueries.new(conn)).collect
    rescue PG::Error => e
      raise TaskerCore::DatabaseError, "metrics: #{e.message.lines.first.to_s.strip}"
    ensure
      conn&.close
    end

    private

    def step_durations
      { "window_seconds" => WINDOW_SECONDS, "horizon_seconds" => HORIZON_SECONDS,
        "templates" => @queries.step_durations(window_seconds: WINDOW_SECONDS, horizon_seconds: HORIZON_SECONDS) }
    end
  end
end
