# frozen_string_literal: true

require "json"

module TaskerCore
  class Worker
    # Submits one attempt's result through a QueueClient (the result sent, the step message
    # deleted, in one transaction) and counts it. A lost connection is retried: re-sending is
    # harmless, the orchestrator ignores a duplicate of an attempt it already processed. A
    # result the database refuses (a data error: a number jsonb cannot hold, a value too
    # large) is not retried, nor left for the message to come back and run the handler again:
    # the attempt is reported as a permanent failure with the database's reason instead.
    class Submitter
      TRIES = 3
      # SQLSTATE classes 22 (data exception) and 54 (program limit exceeded): the result's
      # content, not the database's state, is the problem.
      REFUSED = [PG::DataException, PG::ProgramLimitExceeded].freeze

      def initialize(client:, stats:, logger:)
        @client = client
        @stats = stats
        @logger = logger
      end

      # Returns the result submitted: `result`, or its replacement when it was refused.
      def submit(job, result)
        send_result(job, result, dump(result))
      rescue JSON::JSONError, *REFUSED => e
        refused(job, result, e)
      end

      # The outcome as reported, for a result that was replaced by `submitted`.
      def self.outcome(submitted, outcome)
        HandlerRunner::Outcome.new(result: nil, error: submitted.error.to_h, duration_ms: outcome.duration_ms)
      end

      private

      def dump(result)
        ResultBuilder.dump(result)
      end

      def send_result(job, result, json)
        tries = 0
        begin
          @client.submit(job.queue, job.msg_id, json)
        rescue PG::Error => e
          raise unless Connection.lost?(e) && (tries += 1) < TRIES

          @logger.warn("tasker-core worker: #{job}: connection lost while submitting the result " \
                       "(#{e.class}); reconnecting to submit it again")
          retry
        end
        @stats.increment(result.success? ? :succeeded : :failed)
        log_failure(job, result) unless result.success?
        result
      end

      def refused(job, result, error)
        reason = "#{error.class}: #{reason_text(error)}"
        message = "the #{result.status} result of attempt #{result.attempt} of step #{result.step_uuid} could not " \
                  "be submitted (#{reason}); the step fails without running its handler again"
        @logger.error("tasker-core worker: #{job}: #{message}")
        replacement = ResultBuilder.replace_with_failure(
          result, ResultBuilder.error("TaskerCore::ResultRefused", message, retryable: false)
        )
        send_result(job, replacement, dump(replacement))
      end

      def reason_text(error)
        primary = error.result&.error_field(PG::PG_DIAG_MESSAGE_PRIMARY) if error.is_a?(PG::Error)
        (primary || error.message).to_s.lines.first.to_s.strip[0, 500]
      end

      def log_failure(job, result)
        error = result.error
        @logger.info do
          "tasker-core worker: #{job}: step #{result.step_uuid} attempt #{result.attempt} failed " \
            "(#{error[:class]}#{error.retryable ? ", retryable" : ""}): #{error.message}"
        end
      end
    end
  end
end
