# frozen_string_literal: true

require "tasker_core/clock"

module TaskerCore
  class Worker
    # The one thread that reads step queues. It LISTENs on every queue's insert channel and
    # reads only as many messages as executors are free to start; when a read comes back
    # short it waits on the database socket for a notification (or on the waker pipe for
    # freed capacity or shutdown), or until the earliest delayed message becomes visible (a
    # retry's backoff), with poll_interval as a fallback for anything else that becomes
    # visible on its own (expired visibility timeouts).
    class Fetcher
      def initialize(settings:, lifecycle:, capacity:, waker:, stats:, dispatch:)
        @settings = settings
        @lifecycle = lifecycle
        @capacity = capacity
        @waker = waker
        @stats = stats
        @dispatch = dispatch
        @connection = Connection.new(settings, lifecycle, role: "fetcher")
        @client = QueueClient.new(@connection)
        @listening = false
        @want_read = true
        @rotation = 0
        @last_read = Clock.now
      end

      # Connects, creates missing queues and LISTENs; raises TaskerCore::DatabaseError if the
      # database cannot be reached, so a misconfigured worker fails at start.
      def prepare!
        @connection.connect!
        setup
      rescue PG::Error => e
        raise TaskerCore::DatabaseError, "worker cannot prepare its queues: #{e.message.strip}"
      end

      def start
        @thread = Thread.new { run }
        @thread.name = "tasker-fetcher"
        @thread
      end

      def join(timeout)
        @thread&.join(timeout)
      end

      def close
        @connection.close
      end

      # Last resort at shutdown, for a fetcher stuck in a database call past the deadline.
      def kill
        return unless @thread&.alive?

        @thread.kill
        @thread.join(1)
        @connection.close
      end

      private

      def run
        backoff = Connection::INITIAL_BACKOFF
        until @lifecycle.stopping?
          begin
            setup unless @listening
            cycle
            backoff = Connection::INITIAL_BACKOFF
          rescue Connection::Stopped
            break
          rescue StandardError => e
            backoff = recover(e, backoff)
          end
        end
      ensure
        @connection.close
      end

      def cycle
        free = @capacity.free
        read_batch(free) if @want_read && free.positive?
        wait unless @want_read && @capacity.free.positive?
      end

      def setup
        queues = @settings.queues
        (queues - @client.existing_queues(queues)).each { |queue| @client.ensure_queue(queue) }
        @client.listen(queues)
        @listening = true
        @want_read = true
      end

      # Reads up to `free` messages, starting at a different queue each time so no namespace
      # starves the others. Keeps @want_read set while some queue may hold more.
      def read_batch(free)
        @last_read = Clock.now
        queues = @settings.queues.rotate(@rotation)
        @rotation = (@rotation + 1) % queues.size
        more = false
        queues.each do |queue|
          break if free.zero? || @lifecycle.stopping?

          jobs = @client.claim_next(queue, @settings.visibility_timeout, [free, @settings.batch_size].min,
                                    @settings.max_reads)
          more ||= jobs.size == [free, @settings.batch_size].min
          free -= jobs.size
          hand_over(jobs)
        end
        @want_read = more || free.zero?
        @next_visible_at = @want_read ? nil : next_visible_at
      end

      # When the earliest delayed message (a retry's backoff) becomes visible, so the wait can
      # end right then instead of at the next poll.
      def next_visible_at
        seconds = @client.next_visible_in(@settings.queues)
        seconds && (Clock.now + seconds)
      end

      def hand_over(jobs)
        return if jobs.empty?

        @capacity.acquire(jobs.size)
        jobs.each { |job| @dispatch.call(job) }
      end

      # Sleeps until a notification, a wake-up or poll_interval after the last read; returns
      # at once if one of them is already pending. A notification that reached the connection
      # while a statement ran (the short read, next_visible_in) was taken off the socket by
      # libpq along with that statement's result, so select would not see it: libpq's queue
      # is looked at first. (Its message may have been committed after the statements'
      # snapshots, so only a new read can tell.)
      def wait
        pg = @connection.pg
        notified = drain_notifications(pg)
        unless notified
          IO.select([pg.socket_io, @waker.reader], nil, nil, wait_timeout)
          notified = drain_notifications(pg)
        end
        @waker.drain
        due = @next_visible_at && Clock.now >= @next_visible_at
        @want_read = true if notified || due || Clock.now - @last_read >= @settings.poll_interval
      end

      def wait_timeout
        timeout = [@settings.poll_interval - (Clock.now - @last_read), 0].max
        @next_visible_at ? [timeout, @next_visible_at - Clock.now].min.clamp(0, nil) : timeout
      end

      def drain_notifications(conn)
        conn.consume_input
        notified = false
        notified = true while conn.notifies
        notified
      rescue PG::Error => e
        @connection.discard!
        raise e
      end

      def recover(error, backoff)
        @stats.increment(:errors)
        @listening = false
        @connection.discard! if Connection.lost?(error) || !@connection.connected?
        @settings.logger.error("tasker-core worker fetcher: #{error.class}: #{error.message.strip}; " \
                               "retrying in #{backoff}s")
        @lifecycle.sleep(backoff)
        [backoff * 2, Connection::MAX_BACKOFF].min
      end
    end
  end
end
