# frozen_string_literal: true

module TaskerCore
  class Worker
    # One attempt of a step while its handler runs, as the Watchdog sees it: the message it
    # came in (job) and its step message, the execution context, when it started and the
    # step's timeout_seconds. The read made the message invisible for timeout_seconds; a
    # heartbeat every third of that pushes it out to timeout_seconds from then, so the message
    # stays hidden while this worker lives, and reappears within timeout_seconds of its death.
    class Attempt
      HEARTBEATS_PER_TIMEOUT = 3

      attr_reader :job, :message, :context, :started_at, :timeout_seconds, :next_beat_at

      def initialize(job:, message:, context:, started_at:)
        @job = job
        @message = message
        @context = context
        @started_at = started_at
        @timeout_seconds = context.step.timeout_seconds
        @next_beat_at = started_at + period
      end

      def number
        @context.attempt
      end

      def step_name
        @context.step.name
      end

      def handler
        @context.step.handler
      end

      def deadline
        @started_at + @timeout_seconds
      end

      def overdue?(now)
        now >= deadline
      end

      def beat_due?(now)
        now >= @next_beat_at
      end

      # The next heartbeat is a period after this one.
      def beaten!(now)
        @next_beat_at = now + period
      end

      # When the Watchdog next has something to do for this attempt.
      def due_at
        [@next_beat_at, deadline].min
      end

      def elapsed_ms(now)
        ((now - @started_at) * 1000.0).round(3)
      end

      def to_s
        "#{@job}: step #{step_name.inspect} (#{@context.step.uuid}) attempt #{number}"
      end

      private

      def period
        @timeout_seconds.to_f / HEARTBEATS_PER_TIMEOUT
      end
    end
  end
end
