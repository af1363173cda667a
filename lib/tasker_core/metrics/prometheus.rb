# frozen_string_literal: true

module TaskerCore
  class Metrics
    # TaskerCore.metrics in the Prometheus text exposition format (0.0.4): every family with
    # its # HELP and # TYPE, names tasker_*, labels namespace, template, state and queue.
    class Prometheus
      CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

      QUEUE_GAUGES = [
        ["depth", "tasker_queue_depth", "Messages in the queue."],
        ["visible", "tasker_queue_visible_messages", "Messages a reader can take now."],
        ["delayed", "tasker_queue_delayed_messages", "Messages not yet visible (a retry's backoff)."],
        ["in_flight", "tasker_queue_in_flight_messages", "Messages read and hidden while a reader works on them."],
        ["oldest_age_seconds", "tasker_queue_oldest_message_age_seconds",
         "Age of the oldest message in the queue (0 when empty)."],
        ["max_read_ct", "tasker_queue_max_read_count", "Highest read count of a message in the queue."],
        ["archived", "tasker_queue_archived_messages", "Messages in the queue's archive (poison, malformed)."]
      ].freeze

      ORCHESTRATOR_COUNTERS = {
        "results_processed" => "Step results the orchestrator took from the results queue.",
        "steps_completed" => "Steps moved to complete.",
        "steps_retried" => "Failed attempts that were scheduled to run again.",
        "steps_failed" => "Steps moved to error.",
        "results_ignored" => "Duplicate or late results that changed nothing.",
        "messages_archived" => "Result and request messages archived as poison or malformed.",
        "tasks_requested" => "Tasks created from the task requests queue.",
        "tasks_swept" => "Tasks the recovery sweep moved on.",
        "steps_recovered" => "Lost steps the recovery sweep enqueued again.",
        "tasks_purged" => "Finished tasks the sweep purged (the retention setting).",
        "errors" => "Errors in the orchestrator's loops.",
        "disconnects" => "Times the orchestrator lost its database connection.",
        "loop_restarts" => "Orchestrator loops that died and were started again."
      }.freeze

      def self.render(metrics)
        new(metrics).render
      end

      def initialize(metrics)
        @metrics = metrics
        @out = +""
      end

      def render
        tasks
        steps
        queues
        step_durations
        replication
        orchestrator
        @out
      end

      private

      def tasks
        family("tasker_tasks", "gauge", "Tasks by template and state.",
               @metrics.fetch("tasks").map do |row|
                 [{ "namespace" => row["namespace"], "template" => row["name"], "state" => row["state"] },
                  row["count"]]
               end)
      end

      def steps
        family("tasker_steps", "gauge", "Steps by state.",
               @metrics.fetch("steps").map { |state, count| [{ "state" => state }, count] })
      end

      def queues
        rows = @metrics.fetch("queues")
        QUEUE_GAUGES.each do |key, name, help|
          family(name, "gauge", help, rows.map { |row| [queue_labels(row), row[key] || 0] })
        end
      end

      def queue_labels(row)
        labels = { "queue" => row["queue_name"] }
        labels["namespace"] = row["namespace"] if row["namespace"]
        labels
      end

      # A summary per template: the quantiles, _sum and _count of the recent window.
      def step_durations
        durations = @metrics.fetch("step_durations")
        name = "tasker_step_duration_seconds"
        help = "Duration of the steps completed in the last #{durations["window_seconds"]} s."
        samples = durations.fetch("templates").flat_map do |row|
          labels = { "namespace" => row["namespace"], "template" => row["name"] }
          [["0.5", "p50"], ["0.9", "p90"], ["0.99", "p99"]].map do |quantile, key|
            [labels.merge("quantile" => quantile), row[key]]
          end + [[labels, row["sum_seconds"], "_sum"], [labels, row["steps"], "_count"]]
        end
        family(name, "summary", help, samples)
      end

      # Only when an orchestrator runs in this process: its counters since it started.
      # Only when the figures come from a replica (read_database_url): how far behind it is.
      def replication
        replication = @metrics["replication"]
        return unless replication && replication["replica"]

        family("tasker_replica_lag_seconds", "gauge",
               "How far the replica these figures were read from is behind (age of its last replayed transaction).",
               [[{}, replication["lag_seconds"] || 0]])
        family("tasker_replica_replay_lag_bytes", "gauge",
               "WAL the replica has received but not replayed yet.",
               [[{}, replication["replay_lag_bytes"] || 0]])
      end

      def orchestrator
        status = @metrics["orchestrator"] or return

        family("tasker_orchestrator_connected", "gauge",
               "1 when this process's orchestrator is connected to the database.",
               [[{}, status["connected"] ? 1 : 0]])
        ORCHESTRATOR_COUNTERS.each do |key, help|
          family("tasker_orchestrator_#{key}_total", "counter", help, [[{}, status.fetch(key, 0)]])
        end
      end

      # samples: [[labels, value], ...] or [[labels, value, suffix], ...].
      def family(name, type, help, samples)
        @out << "# HELP #{name} #{help.gsub("\\", "\\\\\\\\").gsub("\n", "\\n")}\n# TYPE #{name} #{type}\n"
        samples.each do |labels, value, suffix|
          @out << "#{name}#{suffix}#{label_text(labels)} #{number(value)}\n"
        end
      end

      def label_text(labels)
        return "" if labels.empty?

        pairs = labels.map { |key, value| "#{key}=\"#{escape(value.to_s)}\"" }
        "{#{pairs.join(",")}}"
      end

      def escape(value)
        value.gsub("\\", "\\\\\\\\").gsub("\"", "\\\"").gsub("\n", "\\n")
      end

      def number(value)
        return value.to_s if value.is_a?(Integer)

        float = Float(value || 0)
        return float.positive? ? "+Inf" : "-Inf" if float.infinite?
        return "NaN" if float.nan?

        float.to_s
      end
    end
  end
end
