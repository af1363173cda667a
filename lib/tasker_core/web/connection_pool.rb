# frozen_string_literal: true

require "pg"
require "tasker_core/clock"

module TaskerCore
  class Web
    # A few PostgreSQL connections for the dashboard's own read queries, shared by the server's
    # threads. Sessions are read-only (default_transaction_read_only) with a statement timeout,
    # so a page can never write or hold the database for long; every write goes through the
    # public API. Broken connections are dropped; a fork starts with a fresh pool.
    class ConnectionPool
      APPLICATION_NAME = "tasker-core web"

      def initialize(database_url:, size: 4, connect_timeout: 3, statement_timeout_ms: 10_000)
        @database_url = database_url
        @size = size
        @connect_timeout = connect_timeout
        @statement_timeout_ms = statement_timeout_ms
        @lock = Mutex.new
        @available = ConditionVariable.new
        reset!
      end

      attr_reader :database_url

      # Yields a PG::Connection; waits (up to the connect timeout) when all are busy.
      def with
        conn = checkout
        begin
          yield conn
        rescue PG::Error
          discard(conn)
          conn = nil
          raise
        ensure
          checkin(conn) if conn
        end
      end

      def shutdown
        @lock.synchronize do
          @idle.each { |conn| conn.close unless conn.finished? }
          reset!
        end
      end

      private

      def reset!
        @pid = Process.pid
        @idle = []
        @count = 0
      end

      # An idle connection, or a reserved slot and a new connection.
      def checkout
        @lock.synchronize do
          reset! if @pid != Process.pid
          deadline = Clock.now + @connect_timeout
          loop do
            conn = @idle.pop
            return conn if conn && usable?(conn)

            if conn
              close_quietly(conn)
              @count -= 1
              next
            end
            break if @count < @size

            remaining = deadline - Clock.now
            raise PG::ConnectionBad, "all #{@size} dashboard connections are busy" if remaining <= 0

            @available.wait(@lock, remaining)
          end
          @count += 1
        end
        open
      end

      def open
        PG.connect(@database_url, application_name: APPLICATION_NAME, connect_timeout: @connect_timeout,
                                  options: "-c statement_timeout=#{Integer(@statement_timeout_ms)} " \
                                           "-c default_transaction_read_only=on")
      rescue PG::Error
        release_slot
        raise
      end

      def checkin(conn)
        @lock.synchronize do
          if @pid != Process.pid
            nil # a connection of the parent process: forget it
          elsif usable?(conn)
            @idle.push(conn)
          else
            close_quietly(conn)
            @count -= 1
          end
          @available.signal
        end
      end

      def discard(conn)
        close_quietly(conn)
        release_slot
      end

      def close_quietly(conn)
        conn.close unless conn.finished?
      rescue PG::Error
        nil
      end

      def release_slot
        @lock.synchronize do
          @count -= 1 if @count.positive?
          @available.signal
        end
      end

      def usable?(conn)
        !conn.finished? && conn.status == PG::CONNECTION_OK && conn.transaction_status == PG::PQTRANS_IDLE
      end
    end
  end
end
