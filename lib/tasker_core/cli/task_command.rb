# frozen_string_literal: true

require "tasker_core/cli/command"
require "tasker_core/types/base"

module TaskerCore
  class CLI
    # tasker-core task UUID
    class TaskCommand < Command
      FAILED = %w[error cancelled].freeze

      command "task", "task UUID [options]", <<~TEXT
        One task: its state, timings and context, and a table of its steps (state, attempts,
        when each was enqueued, started and completed relative to the task's creation, how long
        it ran, and its last error). Exits 1 when the task is in error or cancelled, or unknown.
      TEXT

      def options(opts)
        opts.on("--json", "Print the full status as JSON (results, errors, backtraces)") { @options[:json] = true }
        opts.on("--wait SECONDS", Float, "Wait up to SECONDS for the task to finish first") { |v| @options[:wait] = v }
      end

      def run(argv)
        uuid = arguments!(argv, 1..1, "a task UUID").first
        raise UsageError, "task: #{uuid.inspect} is not a UUID" unless TaskerCore::Types::UUID_FORMAT.match?(uuid)

        configure!
        status = fetch(uuid)
        @options[:json] ? json(status.to_h) : print_status(status)
        FAILED.include?(status.state) ? 1 : 0
      end

      private

      def fetch(uuid)
        return TaskerCore.task_status(uuid) unless @options[:wait]

        TaskerCore.wait_for_task(uuid, timeout: @options[:wait])
      rescue TaskerCore::TimeoutError
        TaskerCore.task_status(uuid)
      end

      def print_status(status)
        created = status.created_at
        puts "#{status["namespace"]}/#{status["name"]}@#{status["version"]} #{status.uuid}: #{status.state}"
        puts "  created #{created&.utc&.iso8601(3)}, #{finished_text(status)}, " \
             "#{status["completion_percentage"]}% of #{status["step_count"]} steps done"
        puts "  #{status.scheduled? ? "starts" : "run at"} #{status.run_at.utc.iso8601(3)}" if status.run_at
        print_details(status)
        puts "", steps_table(status, created).to_s
      end

      def print_details(status)
        details = { "initiator" => status["initiator"], "source" => status["source_system"],
                    "reason" => status["reason"] }.compact
        details["tags"] = status["tags"].join(",") if status["tags"]&.any?
        puts "  #{details.map { |k, v| "#{k} #{v}" }.join(", ")}" if details.any?
        puts "  context #{Format.truncate(JSON.generate(status["context"] || {}), 100)}"
      end

      def finished_text(status)
        completed = status.completed_at
        return "running for #{Format.duration(status["duration_ms"].to_f / 1000)}" unless completed

        "finished #{completed.utc.iso8601(3)} after #{Format.duration(status["duration_ms"].to_f / 1000)}"
      end

      def steps_table(status, created)
        table = Table.new("STEP", "STATE", "ATTEMPTS", "ENQUEUED", "STARTED", "COMPLETED", "RAN", "ERROR")
        status.steps.each do |step|
          table << [step.name, step.state, "#{step.attempts}/#{step.max_attempts}",
                    Format.offset(step.enqueued_at, created), Format.offset(step.started_at, created),
                    Format.offset(step.completed_at, created), ran(step), error_text(step, created)]
        end
        table
      end

      def ran(step)
        return "" unless step.started_at && step.completed_at && step.completed_at >= step.started_at

        Format.duration(step.completed_at - step.started_at)
      end

      def error_text(step, created)
        text = Format.truncate(Format.error(step.last_error), 80)
        retry_at = step.next_retry_at
        retry_at ? "#{text} (retry at #{Format.offset(retry_at, created)})" : text
      end
    end
  end
end
