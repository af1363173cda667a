# frozen_string_literal: true

require "json"
require "socket"

module TaskerCore
  class Worker
    # Builds the result messages a worker sends to tasker_step_results (as
    # TaskerCore::Types::StepResult) and turns exceptions into their `error` part.
    class ResultBuilder
      BACKTRACE_LINES = 20
      MAX_MESSAGE_LENGTH = 10_000

      attr_reader :worker_id, :hostname, :pid

      def initialize(worker_id:, hostname: Socket.gethostname, pid: Process.pid)
        @worker_id = worker_id
        @hostname = hostname
        @pid = pid
      end

      # `message` is the TaskerCore::Types::StepMessage the job carried.
      # `handler_metadata`: what the handler attached to its result (a call result's metadata).
      # `shape`: a decision step's {"choose" => names} or a fan_out step's {"items" => elements}.
      def success(job, message, attempt:, result:, duration_ms:, handler_metadata: nil, shape: nil)
        step_result = build(job, message, attempt: attempt, status: "success", result: result, error: nil,
                                          duration_ms: duration_ms)
        return step_result unless handler_metadata || shape

        extra = { "handler_metadata" => handler_metadata }.merge(shape || {})
        TaskerCore::Types::StepResult.new(step_result.to_h.merge(extra))
      end

      def failure(job, message, attempt:, error:, duration_ms:)
        build(job, message, attempt: attempt, status: "failure", result: nil, error: error, duration_ms: duration_ms)
      end

      # The message's JSON text. A result nests up to JsonValue::MAX_DEPTH levels one level
      # below the message itself.
      def self.dump(step_result)
        JSON.generate(step_result.to_h, max_nesting: JsonValue.nesting(1))
      end

      # The same attempt's result, now a permanent failure with `error`: for a result that
      # could not be submitted as it was (the database refused it).
      def self.replace_with_failure(step_result, error)
        TaskerCore::Types::StepResult.new(step_result.to_h.merge("status" => "failure", "result" => nil,
                                                                 "error" => error))
      end

      # The `error` part for an exception a handler raised.
      def self.error_for(exception)
        retry_after = exception.respond_to?(:retry_after) ? seconds(exception.retry_after) : nil
        error_code = exception.respond_to?(:error_code) ? exception.error_code&.to_s : nil
        error(exception.class.name || exception.class.inspect, exception.message,
              retryable: retryable?(exception), retry_after: retry_after, error_code: error_code,
              backtrace: exception.backtrace, context: exception.is_a?(TaskerCore::Error) ? exception.context : nil)
      end

      def self.error(class_name, message, retryable:, retry_after: nil, error_code: nil, backtrace: nil, context: nil)
        { "class" => class_name, "message" => text(message).slice(0, MAX_MESSAGE_LENGTH),
          "retryable" => retryable, "retry_after" => retry_after,
          "error_code" => error_code && text(error_code),
          "backtrace" => Array(backtrace).first(BACKTRACE_LINES).map { |line| text(line) },
          "context" => json_context(context) }
      end

      # A handler's error context as JSON; one that is not JSON is kept as its inspect text.
      def self.json_context(context)
        return nil if context.nil? || (context.respond_to?(:empty?) && context.empty?)

        value = JsonValue.normalize(context, "context", 2)
        value.is_a?(Hash) ? value : { "value" => value }
      rescue JsonValue::NotJson => e
        { "unserializable" => text(context.inspect).slice(0, MAX_MESSAGE_LENGTH), "problem" => e.message }
      end

      # Errors in the handler's code itself (NotImplementedError, SyntaxError, stack overflow),
      # an explicit `exit`, PermanentError (TaskerCore::Errors::ValidationError too), and a
      # missing record or setting a handler reports (NotFoundError, ConfigurationError) are
      # final: trying again cannot help.
      FINAL = [TaskerCore::PermanentError, TaskerCore::NotFoundError, TaskerCore::ConfigurationError,
               ScriptError, SystemStackError, SystemExit].freeze

      # Everything else a handler raises is retryable: RetryableError, any StandardError, and
      # the rest of Exception (NoMemoryError, Interrupt, SignalException, Exception itself).
      def self.retryable?(exception)
        FINAL.none? { |klass| exception.is_a?(klass) }
      end

      def self.seconds(value)
        value.is_a?(Numeric) && value.to_f.finite? && !value.negative? ? value : nil
      end

      # Valid UTF-8 that jsonb can store: a NUL becomes the six characters \u0000.
      def self.text(value)
        value.to_s.encode(Encoding::UTF_8, invalid: :replace, undef: :replace, replace: "?").scrub("?")
             .gsub("\0") { "\\u0000" }
      end

      private

      def build(job, message, attempt:, status:, result:, error:, duration_ms:)
        TaskerCore::Types::StepResult.new(
          task_uuid: message.task_uuid, step_uuid: message.step_uuid, attempt: attempt,
          status: status, result: result, error: error, metadata: metadata(job),
          duration_ms: [duration_ms.to_f.round(3), 0.0].max
        )
      end

      def metadata(job)
        { worker_id: @worker_id, hostname: @hostname, pid: @pid, queue: job.queue,
          msg_id: job.msg_id, read_ct: job.read_ct }
      end
    end
  end
end
