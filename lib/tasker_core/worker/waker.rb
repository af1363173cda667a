# frozen_string_literal: true

module TaskerCore
  class Worker
    # Wakes the fetcher out of its wait on the database socket: a self-pipe that executors
    # poke when capacity frees up and that stop pokes on shutdown.
    class Waker
      attr_reader :reader

      def initialize
        @reader, @writer = IO.pipe
      end

      def wake!
        @writer.write_nonblock("!", exception: false)
      rescue IOError
        nil # closed during shutdown
      end

      # Empties the pipe; returns true if anything was in it.
      def drain
        woken = false
        loop do
          chunk = @reader.read_nonblock(64, exception: false)
          break unless chunk.is_a?(String)

          woken = true
        end
        woken
      rescue IOError
        woken
      end

      def close
        [@reader, @writer].each { |io| io.close unless io.closed? }
      end
    end
  end
end
