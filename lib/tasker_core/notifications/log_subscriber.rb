# frozen_string_literal: true

module TaskerCore
  module Notifications
    # Writes one line per tasker_core event to a logger (TaskerCore.logger unless given):
    #
    #   TaskerCore::Notifications::LogSubscriber.attach
    #   # INFO  tasker-core task.completed fulfillment/process_order 0192...e1 (complete)
    #   # WARN  tasker-core step.failed fulfillment/process_order charge_card attempt 1/3 ...
    #
    # Steps starting and completing log at debug, retries and task outcomes at info, failed
    # attempts at warn and failed tasks at error. The Railtie attaches it unless
    # `config.tasker_core.log_events = false`.
    class LogSubscriber
      LEVELS = {
        "task.created" => :info, "task.completed" => :info, "task.failed" => :error,
        "task.cancelled" => :info, "task.resolved" => :info, "step.started" => :debug,
        "step.completed" => :debug, "step.failed" => :warn, "step.retried" => :info
      }.freeze

      def self.attach(logger: nil)
        subscriber = new(logger: logger)
        Notifications.subscribe(ALL) { |name, payload| subscriber.call(name, payload) }
      end

      def initialize(logger: nil)
        @logger = logger
      end

      def call(name, payload)
        event = name.delete_suffix(SUFFIX)
        level = LEVELS.fetch(event, :info)
        logger = @logger || TaskerCore.logger
        return unless logger.public_send(:"#{level}?")

        logger.public_send(level, "tasker-core #{event} #{describe(event, payload)}")
      end

      private

      def describe(event, payload)
        parts = [subject(payload)]
        parts << payload[:step_name] if event.start_with?("step.")
        parts << payload[:task_uuid]&.to_s
        parts << attempt(payload) if payload[:attempt]
        parts << "(#{payload[:state]})" if payload[:state]
        parts << format("in %.1f ms", payload[:duration_ms]) if payload[:duration_ms]
        parts << "next attempt in #{payload[:delay_seconds].round(2)} s" if payload[:delay_seconds]
        parts << error(payload[:error]) if payload[:error]
        parts.compact.join(" ")
      end

      def subject(payload)
        name = payload[:name] || payload[:task_name]
        [payload[:namespace], name].compact.join("/")
      end

      def attempt(payload)
        max = payload[:max_attempts]
        max ? "attempt #{payload[:attempt]}/#{max}" : "attempt #{payload[:attempt]}"
      end

      def error(error)
        error = error.to_h
        klass = error[:class] || error["class"]
        message = (error[:message] || error["message"]).to_s.lines.first.to_s.strip
        "#{klass}: #{message}"
      end
    end
  end
end
