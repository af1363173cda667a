# frozen_string_literal: true

require "securerandom"
require "socket"
require "tasker_core/clock"
require "tasker_core/configuration"
require "tasker_core/errors"
require "tasker_core/sequence"
require "tasker_core/step_handler"
require "tasker_core/types"
require "tasker_core/worker/attempt"
require "tasker_core/worker/capacity"
require "tasker_core/worker/connection"
require "tasker_core/worker/executor_pool"
require "tasker_core/worker/fetcher"
require "tasker_core/worker/handler_output"
require "tasker_core/worker/handler_resolver"
require "tasker_core/worker/handler_runner"
require "tasker_core/worker/job"
require "tasker_core/worker/json_value"
require "tasker_core/worker/lifecycle"
require "tasker_core/worker/message_processor"
require "tasker_core/worker/queue_client"
require "tasker_core/worker/result_builder"
require "tasker_core/worker/settings"
require "tasker_core/worker/stats"
require "tasker_core/worker/step_events"
require "tasker_core/worker/submitter"
require "tasker_core/worker/waker"
require "tasker_core/worker/watchdog"

module TaskerCore
  # Runs step handlers for some namespaces: reads `<namespace>_queue`, claims each step, runs
  # its handler and submits the result. Pure Ruby on the pg gem: one fetcher thread and
  # `concurrency` executor threads, each with its own connection, and a watchdog thread that
  # keeps running attempts' messages hidden and reports the ones that pass timeout_seconds.
  #
  #   worker = TaskerCore::Worker.start(namespaces: %w[fulfillment], concurrency: 4)
  #   worker.stats   # => {processed: 12, succeeded: 11, failed: 1, ...}
  #   worker.stop    # graceful: running handlers get up to 30 s to finish
  #
  # Options: database_url, poll_interval (fallback wake-up, seconds), visibility_timeout
  # (seconds a read message stays hidden until its step is claimed), batch_size, logger.
  class Worker
    attr_reader :id, :settings

    def self.start(namespaces:, concurrency: 4, **options)
      new(namespaces: namespaces, concurrency: concurrency, **options).start
    end

    def initialize(namespaces:, concurrency: 4, **options)
      @settings = Settings.new(namespaces: namespaces, concurrency: concurrency, **options)
      @id = "#{Socket.gethostname}-#{Process.pid}-#{SecureRandom.hex(4)}"
      @stats = Stats.new
      @mutex = Mutex.new
      @state = :new
      @stopped_lock = Mutex.new
      @stopped = ConditionVariable.new
    end

    def start
      @mutex.synchronize do
        raise TaskerCore::ArgumentError, "worker #{@id} was already started" unless @state == :new

        build_parts
        prepare
        @watchdog.start
        @executors.start
        @fetcher.start
        @state = :running
      end
      logger.info("tasker-core worker #{@id} started: queues #{queues.join(", ")}, " \
                  "concurrency #{@settings.concurrency}, database #{@settings.redacted_database_url}")
      self
    end

    # Stops fetching at once, gives running handlers until `timeout` seconds to finish and
    # submit, then closes every connection. Returns true if nothing had to be cut short.
    # Safe to call from a signal handler (`trap("TERM") { worker.stop }`).
    def stop(timeout: 30)
      @mutex.synchronize { shut_down(timeout) }
    rescue ThreadError => e
      raise unless e.message.include?("trap context")

      Thread.new { stop(timeout: timeout) }.value
    end

    # Blocks until the worker has stopped (say, from a signal handler), or `timeout` seconds
    # passed; returns true if it stopped. For a process whose only job is this worker.
    def wait(timeout = nil)
      deadline = timeout && (Clock.now + timeout)
      @stopped_lock.synchronize do
        until stopped?
          remaining = deadline && (deadline - Clock.now)
          return false if remaining && remaining <= 0

          @stopped.wait(@stopped_lock, [remaining || 1, 1].min)
        end
      end
      true
    end

    def running?
      @state == :running
    end

    def stopped?
      @state == :stopped
    end

    def queues
      @settings.queues
    end

    def namespaces
      @settings.namespaces
    end

    # Counts of what this worker did: processed, succeeded, failed, archived, stale, released,
    # errors, timed_out, plus in_flight (messages read and not finished yet).
    def stats
      @stats.to_h.merge(in_flight: @capacity ? @capacity.in_flight : 0)
    end

    def inspect
      "#<#{self.class.name} #{@id} #{@state} queues=#{queues.inspect}>"
    end

    private

    def shut_down(timeout)
      return true unless @state == :running

      @state = :stopping
      deadline = Clock.now + timeout
      @lifecycle.stop!
      @waker.wake!
      @fetcher.join([deadline - Clock.now, 0].max)
      cut_short = @executors.shutdown(deadline)
      @watchdog.stop([deadline - Clock.now, 1].max)
      @fetcher.kill
      @waker.close
      mark_stopped
      log_stop(cut_short)
      cut_short.zero?
    end

    def mark_stopped
      @stopped_lock.synchronize do
        @state = :stopped
        @stopped.broadcast
      end
    end

    def build_parts
      @lifecycle = Lifecycle.new
      @waker = Waker.new
      @capacity = Capacity.new(@settings.concurrency, @waker)
      builder = ResultBuilder.new(worker_id: @id)
      @watchdog = Watchdog.new(settings: @settings, lifecycle: @lifecycle, stats: @stats, builder: builder)
      @executors = ExecutorPool.new(settings: @settings, lifecycle: @lifecycle, capacity: @capacity,
                                    stats: @stats, builder: builder, watchdog: @watchdog)
      @fetcher = Fetcher.new(settings: @settings, lifecycle: @lifecycle, capacity: @capacity, waker: @waker,
                             stats: @stats, dispatch: @executors.method(:push))
    end

    def prepare
      @fetcher.prepare!
      @executors.prepare!
    rescue StandardError
      @lifecycle.stop!
      @fetcher.close
      @executors.shutdown(Clock.now)
      @watchdog.stop(0)
      @waker.close
      raise
    end

    def log_stop(cut_short)
      message = "tasker-core worker #{@id} stopped: #{stats}"
      if cut_short.positive?
        logger.warn("#{message}; #{cut_short} handler(s) did not finish in time and were interrupted " \
                    "(their steps will be retried after the visibility timeout)")
      else
        logger.info(message)
      end
    end

    def logger
      @settings.logger
    end
  end
end
