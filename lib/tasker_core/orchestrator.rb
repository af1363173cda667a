# frozen_string_literal: true

require "json"

module TaskerCore
  # The embedded orchestrator: a tokio runtime on background threads of this process.
  # One per process; start returns at once.
  class Orchestrator
    class << self
      def start(configuration: TaskerCore.configuration)
        configuration.validate!
        EventPump.ensure_running
        Internal::Orchestrator.start(configuration.to_native)
        install_exit_hook
        self
      end

      # Stops taking results and requests, lets in-flight ones finish (up to timeout).
      def stop(timeout: 30)
        Internal::Orchestrator.stop(timeout.to_f)
      end

      def running?
        Internal::Orchestrator.running?
      end

      # Counters and connection state as a Hash, nil when not running in this process.
      def status
        json = Internal::Orchestrator.status
        json && JSON.parse(json)
      end

      private

      def install_exit_hook
        return if @exit_hook

        @exit_hook = true
        pid = Process.pid
        at_exit { stop(timeout: 5) if Process.pid == pid && running? }
      end
    end
  end
end
