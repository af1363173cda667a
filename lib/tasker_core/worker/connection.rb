# frozen_string_literal: true

require "pg"
require "set"

module TaskerCore
  class Worker
    # One PostgreSQL connection owned by one worker thread. Connects on first use, and after
    # a connection error reconnects with backoff (0.1 s doubling to 5 s) until it succeeds or
    # the worker stops. The password never reaches a log line.
    class Connection
      INITIAL_BACKOFF = 0.1
      MAX_BACKOFF = 5.0
      LOST_CONNECTION = [PG::ConnectionBad, PG::UnableToSend, PG::ConnectionException,
                         PG::AdminShutdown, PG::CrashShutdown, PG::CannotConnectNow].freeze

      # The worker is stopping and this connection is gone: give up quietly.
      class Stopped < StandardError; end

      def self.lost?(error)
        LOST_CONNECTION.any? { |klass| error.is_a?(klass) }
      end

      def initialize(settings, lifecycle, role:)
        @settings = settings
        @lifecycle = lifecycle
        @role = role
        @pg = nil
        @prepared = Set.new
        @backoff = INITIAL_BACKOFF
      end

      # The live PG::Connection, (re)connecting with backoff first if needed.
      def pg
        @pg ||= connect_with_backoff
      end

      def connected?
        !@pg.nil? && !@pg.finished? && @pg.status == PG::CONNECTION_OK
      end

      # Tries once and raises TaskerCore::DatabaseError: used at start to fail fast.
      def connect!
        @pg ||= open
      rescue PG::Error => e
        raise TaskerCore::DatabaseError,
              "worker cannot connect to #{@settings.redacted_database_url}: #{e.message.strip}"
      end

      def exec_params(sql, params)
        pg.exec_params(sql, params)
      rescue PG::Error => e
        discard! if Connection.lost?(e) || !connected?
        raise
      end

      # Runs `sql` as a statement prepared once per connection under `name` (planned once,
      # not on every call); a new connection prepares it again on first use.
      def exec_prepared(name, sql, params)
        conn = pg
        unless @prepared.include?(name)
          conn.prepare(name, sql)
          @prepared << name
        end
        conn.exec_prepared(name, params)
      rescue PG::Error => e
        discard! if Connection.lost?(e) || !connected?
        raise
      end

      # Forget a broken connection; the next use reconnects.
      def discard!
        old = @pg
        @pg = nil
        @prepared.clear
        old&.close unless old&.finished?
      rescue PG::Error
        nil
      end

      def close
        discard!
      end

      private

      # Every commit of a worker connection (claims, results, poison reports, archives) skips
      # the WAL flush, set here and nowhere else: a crash that loses one loses the message change
      # it made with it, so the step runs again (docs/architecture.md#durability).
      COMMIT_MODE = "-c synchronous_commit=off"

      def open
        conn = PG.connect(@settings.database_url, application_name: "tasker-core worker #{@role}"[0, 63],
                                                  options: COMMIT_MODE)
        logger = @settings.logger
        conn.set_notice_processor { |notice| logger.debug("tasker-core worker #{@role}: #{notice.strip}") }
        @backoff = INITIAL_BACKOFF
        conn
      end

      def connect_with_backoff
        loop do
          raise Stopped, "worker stopping" if @lifecycle.stopping?

          begin
            return open
          rescue PG::Error => e
            @settings.logger.warn("tasker-core worker #{@role}: cannot connect to " \
                                  "#{@settings.redacted_database_url} (#{e.message.strip}); " \
                                  "retrying in #{@backoff}s")
            @lifecycle.sleep(@backoff)
            @backoff = [@backoff * 2, MAX_BACKOFF].min
          end
        end
      end
    end
  end
end
