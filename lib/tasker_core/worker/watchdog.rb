# frozen_string_literal: true

require "tasker_core/clock"

module TaskerCore
  class Worker
    # Watches every attempt whose handler runs in this worker, from a thread and a connection
    # of its own (opened the first time it is needed), so that it can act while the executor
    # thread is busy in the handler:
    # - heartbeat: every third of the step's timeout_seconds, the message is hidden again for
    #   timeout_seconds (pgmq.set_vt); it reappears only if this worker dies;
    # - timeout: an attempt still running at timeout_seconds is reported failed, with
    #   TaskerCore::TimeoutError (retryable), in the usual transaction that deletes its message.
    #   The handler keeps its executor (and its capacity slot) until it returns; its late
    #   result is ignored and logged (MessageProcessor);
    # - an attempt whose executor thread died while the handler ran (a handler that killed
    #   its own thread) is reported failed, retryable, with TaskerCore::HandlerAborted.
    class Watchdog
      def initialize(settings:, lifecycle:, stats:, builder:)
        @lifecycle = lifecycle
        @stats = stats
        @builder = builder
        @logger = settings.logger
        @connection = Connection.new(settings, lifecycle, role: "watchdog")
        @client = QueueClient.new(@connection)
        @submitter = Submitter.new(client: @client, stats: stats, logger: @logger)
        @mutex = Mutex.new
        @wakeup = ConditionVariable.new
        @running = {}
        @orphans = []
        @wake_at = nil
        @closed = false
      end

      def start
        @thread = Thread.new { run }
        @thread.name = "tasker-watchdog"
        @thread
      end

      # Starts watching the attempt whose handler is about to run; returns its Attempt.
      def watch(job, message, context)
        attempt = Attempt.new(job: job, message: message, context: context, started_at: Clock.now)
        @mutex.synchronize do
          revive if @thread && !@thread.alive? && !@closed
          @running[attempt] = true
          @wakeup.signal if @wake_at.nil? || attempt.due_at < @wake_at
        end
        attempt
      end

      # The handler returned. True if its result is wanted; false if the attempt was already
      # reported (it ran past its timeout).
      def finish(attempt)
        @mutex.synchronize { !@running.delete(attempt).nil? }
      end

      # The thread running the attempt is dying before the handler returned.
      def abandon(attempt)
        @mutex.synchronize do
          next unless @running.delete(attempt)

          @orphans << attempt
          @wakeup.signal
        end
      end

      # After the executors stopped. Waits up to `timeout` seconds for a report in progress.
      def stop(timeout)
        @mutex.synchronize do
          @closed = true
          @wakeup.signal
        end
        return @connection.close unless @thread

        @thread.join(timeout) || @thread.kill.join(1)
        @connection.close
      end

      private

      # Its thread died (killed, or an error no rescue expected): a new one takes over.
      def revive
        @stats.increment(:errors)
        @logger.error("tasker-core worker: the watchdog thread died; a new one takes its place")
        start
      end

      def run
        while (work = next_work)
          work.each { |kind, attempt| perform(kind, attempt) }
        end
      ensure
        @connection.close
      end

      # Sleeps until the earliest heartbeat or deadline (or a new attempt due sooner, or an
      # orphan); returns what is due, or nil once stopped.
      def next_work
        @mutex.synchronize do
          until @closed
            work = due_work(Clock.now)
            return work unless work.empty?

            @wake_at = @running.each_key.map(&:due_at).min
            @wakeup.wait(@mutex, @wake_at && [@wake_at - Clock.now, 0].max)
          end
          nil
        end
      end

      def due_work(time)
        work = @orphans.map { |attempt| [:abandoned, attempt] }
        @orphans.clear
        @running.each_key do |attempt|
          if attempt.overdue?(time)
            work << [:timeout, attempt]
          elsif attempt.beat_due?(time)
            attempt.beaten!(time)
            work << [:heartbeat, attempt]
          end
        end
        work.each { |kind, attempt| @running.delete(attempt) if kind == :timeout }
        work
      end

      def perform(kind, attempt)
        case kind
        when :heartbeat then @client.hide(attempt.job.queue, attempt.job.msg_id, attempt.timeout_seconds)
        when :timeout then timed_out(attempt)
        when :abandoned then abandoned(attempt)
        end
      rescue Connection::Stopped
        nil
      rescue StandardError => e
        @stats.increment(:errors)
        @logger.error("tasker-core worker watchdog: #{attempt}: #{kind}: #{e.class}: #{e.message.strip}")
      end

      def timed_out(attempt)
        limit = attempt.timeout_seconds
        report(attempt, "TaskerCore::TimeoutError",
               "attempt #{attempt.number} ran past timeout_seconds = #{limit} s: step #{attempt.step_name.inspect} " \
               "(handler #{attempt.handler}) was still running; its result, if it returns, is ignored")
        @stats.increment(:timed_out)
        @logger.warn("tasker-core worker: #{attempt} ran past timeout_seconds = #{limit} s and was reported " \
                     "failed (TaskerCore::TimeoutError); its handler keeps its executor until it returns")
      end

      # At shutdown the pool itself kills the handlers still running at the deadline: their
      # messages are left to reappear, as for a worker that dies.
      def abandoned(attempt)
        return if @lifecycle.stopping?

        report(attempt, "TaskerCore::HandlerAborted",
               "attempt #{attempt.number} of step #{attempt.step_name.inspect} (handler #{attempt.handler}) " \
               "ended without a result: its thread was killed (Thread#kill or Thread.exit) while the handler ran")
      end

      def report(attempt, error_class, text)
        error = ResultBuilder.error(error_class, text, retryable: true)
        duration_ms = attempt.elapsed_ms(Clock.now)
        result = @builder.failure(attempt.job, attempt.message, attempt: attempt.number, error: error,
                                                                duration_ms: duration_ms)
        @submitter.submit(attempt.job, result)
        StepEvents.finished(attempt.context, HandlerRunner::Outcome.new(error: error, duration_ms: duration_ms))
      end
    end
  end
end
