# frozen_string_literal: true

require "tasker_core/clock"

module TaskerCore
  class Worker
    # N executor threads, each with its own connection, taking jobs from one queue. A job
    # taken after stop began is handed back to pgmq (made visible again) instead of run.
    # Nothing a job does ends an executor thread; if one dies anyway (a handler that kills its
    # own thread), its capacity is released, the death counted in `errors` and logged, and a
    # new thread takes its place.
    class ExecutorPool
      STOP = Object.new.freeze

      def initialize(settings:, lifecycle:, capacity:, stats:, builder:, watchdog:)
        @settings = settings
        @lifecycle = lifecycle
        @capacity = capacity
        @stats = stats
        @builder = builder
        @watchdog = watchdog
        @jobs = Thread::Queue.new
        @connections = Array.new(settings.concurrency) do |index|
          Connection.new(settings, lifecycle, role: "executor #{index + 1}")
        end
        @threads = []
        @mutex = Mutex.new
        @closed = false
      end

      # Opens every connection now so a bad database URL fails Worker.start.
      def prepare!
        @connections.each(&:connect!)
      end

      def start
        @mutex.synchronize { @threads = Array.new(@connections.size) { |index| spawn(index) } }
      end

      def push(job)
        @jobs << job
      end

      # Lets running handlers finish until the deadline (a monotonic time), then kills the
      # threads still running; their messages reappear after their visibility timeout.
      def shutdown(deadline)
        threads = @mutex.synchronize do
          @closed = true
          @threads.dup
        end
        threads.size.times { @jobs << STOP }
        threads.each { |thread| thread.join([deadline - Clock.now, 0].max) }
        stragglers = threads.select(&:alive?)
        stragglers.each(&:kill).each { |thread| thread.join(1) }
        @connections.each(&:close)
        stragglers.size
      end

      private

      def spawn(index)
        thread = Thread.new { run(index) }
        thread.name = "tasker-executor-#{index + 1}"
        thread
      end

      def run(index)
        client = QueueClient.new(@connections[index])
        processor = MessageProcessor.new(client: client, runner: HandlerRunner.new(logger: logger),
                                         builder: @builder, stats: @stats, logger: logger,
                                         watchdog: @watchdog, max_reads: @settings.max_reads)
        loop do
          job = @jobs.pop
          break if job.equal?(STOP)

          work(job, client, processor)
        end
        stopped = true
      ensure
        replace(index) unless stopped
      end

      # The thread of executor `index` is dying (killed): a new one takes over, on a fresh
      # connection (the old one may be in the middle of a statement).
      def replace(index)
        @mutex.synchronize do
          next if @closed

          @stats.increment(:errors)
          logger.error("tasker-core worker: executor #{index + 1} died (its thread was killed, Thread#kill or " \
                       "Thread.exit, most likely by a handler); a new executor thread takes its place")
          @connections[index].discard!
          @threads[index] = spawn(index)
        end
      end

      def work(job, client, processor)
        @lifecycle.stopping? ? release(job, client) : processor.process(job)
      rescue Connection::Stopped
        nil
      rescue Exception => e # rubocop:disable Lint/RescueException -- an executor outlives every job
        failed(job, e, client)
      ensure
        @capacity.release
      end

      def release(job, client)
        client.release(job.queue, job.msg_id)
        @stats.increment(:released)
      end

      def failed(job, error, client)
        @stats.increment(:errors)
        logger.error("tasker-core worker: #{job}: #{error.class}: #{error.message.strip}")
        logger.debug { Array(error.backtrace).first(10).join("\n") }
        hand_back(job, client) if Connection.lost?(error)
      end

      # After a lost connection, reconnect and make the message visible again at once rather
      # than after its visibility timeout. If the lost statement was a claim that did commit,
      # the next delivery is simply a redelivery of that attempt.
      def hand_back(job, client)
        client.release(job.queue, job.msg_id)
        logger.warn("tasker-core worker: reconnected; #{job} handed back to the queue")
      rescue Connection::Stopped
        nil
      rescue StandardError => e
        logger.error("tasker-core worker: #{job}: could not hand the message back (#{e.class}: " \
                     "#{e.message.strip}); it will reappear after its visibility timeout")
      end

      def logger
        @settings.logger
      end
    end
  end
end
