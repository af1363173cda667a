# frozen_string_literal: true

module TaskerCore
  class Worker
    # The stop flag every thread of one worker watches. `sleep` returns early once stopping,
    # so no backoff delays a shutdown.
    class Lifecycle
      def initialize
        @mutex = Mutex.new
        @stopped = ConditionVariable.new
        @stopping = false
      end

      def stopping?
        @stopping
      end

      def stop!
        @mutex.synchronize do
          @stopping = true
          @stopped.broadcast
        end
      end

      # Sleeps up to `seconds`; returns false if woken by stop!.
      def sleep(seconds)
        @mutex.synchronize do
          @stopped.wait(@mutex, seconds) unless @stopping
          !@stopping
        end
      end
    end
  end
end
