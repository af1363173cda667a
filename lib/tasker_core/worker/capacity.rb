# frozen_string_literal: true

module TaskerCore
  class Worker
    # Counts the messages handed to executors and not finished yet, so the fetcher never
    # reads more than the executors can start at once (a read message's visibility timeout
    # is already running).
    class Capacity
      attr_reader :limit

      def initialize(limit, waker)
        @limit = limit
        @waker = waker
        @in_flight = 0
        @mutex = Mutex.new
      end

      def free
        @mutex.synchronize { @limit - @in_flight }
      end

      def in_flight
        @mutex.synchronize { @in_flight }
      end

      def acquire(count)
        @mutex.synchronize { @in_flight += count }
      end

      def release
        @mutex.synchronize { @in_flight -= 1 }
        @waker.wake!
      end
    end
  end
end
