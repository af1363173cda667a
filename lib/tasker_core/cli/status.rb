# frozen_string_literal: true

require "time"
require "tasker_core/cli/command"
require "tasker_core/cli/namespaces"
require "tasker_core/status_queries"

module TaskerCore
  class CLI
    # tasker-core status
    class Status < Command
      command "status", "status [options]", <<~TEXT
        What the database says right now: tasks by state for each namespace/name, every queue's
        depth (visible, in flight, delayed for a retry) and oldest message age, archived (poison)
        messages, steps that look stuck, steps waiting for a retry, tasks scheduled to start later
        (create_task(run_at:/delay:)), the paused namespaces, and the tasker-core processes connected.
        Read-only.
      TEXT

      DURATION = /\A(\d+(?:\.\d+)?)(s|m|h|d)?\z/
      UNITS = { "s" => 1, "m" => 60, "h" => 3600, "d" => 86_400 }.freeze

      def options(opts)
        @options[:stuck_after] = 300.0
        @options[:limit] = 20
        opts.on("--since DURATION", "Only count tasks created in the last DURATION (90s, 15m, 2h, 7d)") do |v|
          @options[:since] = seconds(v, "--since")
        end
        opts.on("--stuck-after DURATION", "Enqueued or ready this long counts as stuck (default 5m)") do |v|
          @options[:stuck_after] = seconds(v, "--stuck-after")
        end
        opts.on("--limit N", Integer, "Rows per step list (default 20)") { |v| @options[:limit] = v }
        opts.on("--json", "Print JSON instead of tables") { @options[:json] = true }
        opts.on("--fail-on-stuck", "Exit 1 when a step looks stuck (for monitoring)") do
          @options[:fail_on_stuck] = true
        end
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        configuration = configure!
        report = collect(configuration)
        @options[:json] ? json(report) : print_report(report)
        @options[:fail_on_stuck] && report[:stuck_steps].any? ? 1 : 0
      end

      private

      def collect(configuration)
        conn = TaskerCore::StatusQueries.connect(configuration.read_url,
                                                 redacted_url: configuration.redacted_read_url,
                                                 application_name: "tasker-core cli")
        queries = TaskerCore::StatusQueries.new(conn)
        { database: configuration.redacted_read_url, at: Time.now.utc.iso8601,
          replication: queries.replication,
          tasks: queries.tasks_by_state(since_seconds: @options[:since]),
          queues: queries.queues,
          stuck_steps: queries.stuck_steps(after_seconds: @options[:stuck_after], limit: @options[:limit]),
          retrying_steps: queries.retrying_steps(limit: @options[:limit]),
          scheduled_tasks: queries.scheduled_tasks(limit: @options[:limit]),
          connections: queries.connections, paused_namespaces: TaskerCore.paused_namespaces }
      rescue PG::Error => e
        raise TaskerCore::DatabaseError, "status query failed: #{e.message.lines.first.to_s.strip}"
      ensure
        conn&.close
      end

      def print_report(report)
        puts "tasker-core status: #{report[:database]} at #{report[:at]}"
        print_replication(report[:replication])
        section("Tasks#{@options[:since] ? " created in the last #{Format.duration(@options[:since])}" : ""}",
                tasks_table(report[:tasks]))
        section("Queues", queues_table(report[:queues]))
        section("Stuck steps", stuck_table(report[:stuck_steps]))
        section("Steps waiting for retry", retry_table(report[:retrying_steps]))
        section("Scheduled tasks (not started yet)", scheduled_table(report[:scheduled_tasks]))
        section("Connected tasker-core processes", connections_table(report[:connections]))
        section("Paused namespaces", Namespaces.paused_table(report[:paused_namespaces]))
      end

      def print_replication(replication)
        return unless replication["replica"]

        puts "read from a streaming replica, #{replication["lag_seconds"] || "?"} s behind " \
             "(#{replication["replay_lag_bytes"] || 0} bytes received and not yet replayed)"
      end

      def section(title, table)
        puts "", title
        puts table.empty? ? "  (none)" : table.to_s
      end

      def tasks_table(rows)
        states = TaskerCore::States::TASK
        table = Table.new("TASK", *states.map(&:upcase), "TOTAL")
        grouped = rows.group_by { |row| "#{row["namespace"]}/#{row["name"]}" }
        totals = Hash.new(0)
        grouped.each do |label, group|
          counts = group.to_h { |row| [row["state"], row["count"]] }
          counts.each { |state, count| totals[state] += count }
          table << [label, *states.map { |s| counts.fetch(s, 0) }, counts.values.sum]
        end
        table << ["all", *states.map { |s| totals[s] }, totals.values.sum] if grouped.size > 1
        table
      end

      def queues_table(rows)
        table = Table.new("QUEUE", "DEPTH", "VISIBLE", "IN_FLIGHT", "DELAYED", "OLDEST", "ARCHIVED")
        rows.each do |row|
          table << [row["queue_name"], row["depth"], row["visible"], row["in_flight"], row["delayed"],
                    Format.duration(row["oldest_age_seconds"]), row["archived"]]
        end
        table
      end

      def stuck_table(rows)
        table = Table.new("TASK", "STEP", "STATE", "ATTEMPTS", "FOR", "PROBLEM")
        rows.each do |row|
          table << [task_label(row), row["step_name"], row["state"], "#{row["attempts"]}/#{row["max_attempts"]}",
                    Format.duration(row["age_seconds"]), row["problem"]]
        end
        table
      end

      def retry_table(rows)
        table = Table.new("TASK", "STEP", "ATTEMPTS", "RETRY_IN", "LAST_ERROR")
        rows.each do |row|
          retry_in = row["retry_in_seconds"]
          table << [task_label(row), row["step_name"], "#{row["attempts"]}/#{row["max_attempts"]}",
                    retry_in&.positive? ? Format.duration(retry_in) : "due",
                    Format.truncate("#{row["error_class"]}: #{row["error_message"]}", 70)]
        end
        table
      end

      def scheduled_table(rows)
        table = Table.new("TASK", "STATE", "RUN_AT", "STARTS_IN")
        rows.each do |row|
          table << [task_label(row), row["state"], row["run_at"], Format.duration(row["starts_in_seconds"])]
        end
        table
      end

      def connections_table(rows)
        table = Table.new("APPLICATION", "CONNECTIONS", "ORCHESTRATORS", "WORKERS", "ACTIVE", "CLIENT")
        rows.each do |row|
          table << [row["application_name"], row["connections"], row["orchestrators"], row["workers"], row["active"],
                    row["client_addr"] || "local"]
        end
        table
      end

      def task_label(row)
        "#{row["namespace"]}/#{row["task_name"]} #{row["task_uuid"]}"
      end

      def seconds(text, option)
        match = DURATION.match(text.to_s.strip)
        raise UsageError, "#{option}: expected a duration like 90s, 15m, 2h or 7d, got #{text.inspect}" unless match

        match[1].to_f * UNITS.fetch(match[2] || "s")
      end
    end
  end
end
