# frozen_string_literal: true

require "json"

module TaskerCore
  # One background thread per process that drains the Rust core's event queue: log lines go
  # to TaskerCore.logger (so one log level and one logger serve Ruby and Rust), lifecycle
  # events (task.completed, task.failed, step.retried, ...) go to TaskerCore::Notifications.
  # Restarted lazily after a fork, where the parent's thread does not exist.
  module EventPump
    LEVELS = { "trace" => :debug, "debug" => :debug, "info" => :info, "warn" => :warn, "error" => :error }.freeze

    class << self
      def ensure_running
        return if @pid == Process.pid && @thread&.alive?

        @pid = Process.pid
        Internal::Events.attach(true)
        @thread = Thread.new { run }
        @thread.name = "tasker-core events"
        # Restarted in a forked child by ensure_running: safe to start before a fork (Puma).
        @thread.thread_variable_set(:fork_safe, true)
      end

      def stop
        thread = @thread
        @thread = nil
        Internal::Events.attach(false)
        thread&.join(2)
      end

      def running?
        @pid == Process.pid && @thread&.alive? ? true : false
      end

      private

      def run
        Internal::Events.next_batch(0.5).each { |json| deliver(JSON.parse(json)) } while @thread == Thread.current
      rescue StandardError => e
        TaskerCore.logger.error("tasker-core event pump stopped: #{e.class}: #{e.message}")
      end

      def deliver(event)
        kind = event.delete("kind")
        if kind == "log"
          TaskerCore.logger.public_send(LEVELS.fetch(event["level"], :info), "[core] #{event["message"]}")
        elsif defined?(TaskerCore::Notifications)
          TaskerCore::Notifications.instrument("#{kind}.tasker_core", event)
        end
      rescue StandardError => e
        TaskerCore.logger.warn("tasker-core event #{kind} not delivered: #{e.class}: #{e.message}")
      end
    end
  end
end
