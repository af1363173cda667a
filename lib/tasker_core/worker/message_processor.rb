# frozen_string_literal: true

require "json"

module TaskerCore
  class Worker
    # What an executor does with one message: check its shape, claim the step, run the
    # handler under the Watchdog and submit the result (or archive / delete the message when
    # there is nothing to run). Database errors propagate to the executor; handler errors
    # never do.
    class MessageProcessor
      def initialize(client:, runner:, builder:, stats:, logger:, watchdog:, max_reads: Settings::DEFAULT_MAX_READS)
        @max_reads = max_reads
        @client = client
        @runner = runner
        @builder = builder
        @stats = stats
        @logger = logger
        @watchdog = watchdog
        @submitter = Submitter.new(client: client, stats: stats, logger: logger)
      end

      def process(job)
        @stats.increment(:processed)
        message = parse(job)
        return unless message
        return report_poison(job, message) if job.read_ct > @max_reads || job.claim&.fetch("status") == "poison"

        dispatch(job, message, job.claim)
      end

      private

      def parse(job)
        data = JSON.parse(job.payload.to_s)
        TaskerCore::Types::StepMessage.new(data)
      rescue JSON::ParserError => e
        archive(job, "malformed JSON (#{e.message.lines.first.to_s.strip[0, 200]})")
      rescue TaskerCore::Types::InvalidError => e
        archive(job, "not a step message: #{e.message}")
      end

      def dispatch(job, message, claim)
        case claim["status"]
        when "claimed" then run(job, message, claim)
        when "stale" then drop_stale(job, message, claim)
        when "exhausted" then report_exhausted(job, message, claim)
        when "unknown" then archive(job, "step #{message.step_uuid} (#{message.step_name}) does not exist")
        when "invalid" then archive(job, "not a step message: step_uuid or attempt malformed")
        else
          @stats.increment(:errors)
          @logger.error("tasker-core worker: #{job}: unexpected claim status #{claim["status"].inspect}; " \
                        "leaving the message to reappear")
        end
      end

      def run(job, message, claim)
        context = TaskerCore::Types::ExecutionContext.new(claim)
        StepEvents.started(context)
        loader = ->(name) { @client.ancestor_result(context.task.uuid, name) }
        outcome = watched(job, message, context) { @runner.run(context, loader: loader) }
        return unless outcome

        result = outcome_result(job, message, context, outcome)
        submitted = submit(job, result)
        StepEvents.finished(context, submitted.equal?(result) ? outcome : Submitter.outcome(submitted, outcome))
      rescue TaskerCore::Types::InvalidError => e
        error = ResultBuilder.error(e.class.name, "claim of step #{message.step_name} returned an " \
                                                  "unexpected shape: #{e.message}", retryable: false)
        submit(job, @builder.failure(job, message, attempt: claim["attempt"] || message.attempt,
                                                   error: error, duration_ms: 0))
      end

      # The handler's outcome, or nil when the Watchdog already reported the attempt (it ran
      # past its timeout): then the late result is only logged. If the thread dies in the
      # handler (Thread#kill), the Watchdog reports the attempt.
      def watched(job, message, context)
        attempt = @watchdog.watch(job, message, context)
        outcome = yield
        finished = @watchdog.finish(attempt)
        return outcome if finished

        ignore_late(attempt, outcome)
      ensure
        @watchdog.abandon(attempt) if attempt && finished.nil?
      end

      def ignore_late(attempt, outcome)
        @logger.warn("tasker-core worker: #{attempt} returned #{outcome.success? ? "a result" : "an error"} after " \
                     "#{outcome.duration_ms.round} ms, past its timeout_seconds = #{attempt.timeout_seconds} s; " \
                     "it was already reported as failed (TaskerCore::TimeoutError), so this late outcome is ignored")
        nil
      end

      def outcome_result(job, message, context, outcome)
        if outcome.success?
          @builder.success(job, message, attempt: context.attempt, result: outcome.result,
                                         duration_ms: outcome.duration_ms, handler_metadata: outcome.metadata,
                                         shape: outcome.shape)
        else
          @builder.failure(job, message, attempt: context.attempt, error: outcome.error,
                                         duration_ms: outcome.duration_ms)
        end
      end

      def report_exhausted(job, message, claim)
        attempt = claim["attempt"] || message.attempt
        poison(job, message, attempt, "TaskerCore::AttemptsExhausted",
               "step #{message.step_name.inspect} of task #{message.task_uuid}: its message was delivered " \
               "#{job.read_ct} times and every attempt was lost (worker died or timed out) " \
               "after #{attempt} of #{claim["max_attempts"] || attempt} attempts")
      end

      # Read more often than allowed without ever being finished: whatever it does to the
      # workers that take it, it is not taken again.
      def report_poison(job, message)
        poison(job, message, message.attempt, "TaskerCore::PoisonMessage",
               "step #{message.step_name.inspect} of task #{message.task_uuid}: its message was read " \
               "#{job.read_ct} times (more than the #{@max_reads} allowed) without a result")
      end

      # The message goes to the archive, the step fails with this error.
      def poison(job, message, attempt, error_class, text)
        error = ResultBuilder.error(error_class, text, retryable: false)
        result = @builder.failure(job, message, attempt: attempt, error: error, duration_ms: 0)
        @client.submit_poison(job.queue, job.msg_id, ResultBuilder.dump(result))
        @stats.increment(:archived)
        @logger.error("tasker-core worker: #{job}: #{text}; archived")
      end

      def drop_stale(job, message, claim)
        @client.delete(job.queue, job.msg_id)
        @stats.increment(:stale)
        @logger.debug do
          "tasker-core worker: #{job}: step #{message.step_name} (#{message.step_uuid}) attempt " \
            "#{message.attempt} is superseded (#{claim.except("status")}); message deleted"
        end
      end

      def submit(job, result)
        @submitter.submit(job, result)
      end

      def archive(job, problem)
        @client.archive(job.queue, job.msg_id)
        @stats.increment(:archived)
        @logger.error("tasker-core worker: archived message msg_id=#{job.msg_id} of queue #{job.queue}: #{problem}")
        nil
      end
    end
  end
end
