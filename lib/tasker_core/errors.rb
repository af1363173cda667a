# frozen_string_literal: true

module TaskerCore
  # Root of every error the gem raises. The Rust core raises these classes too: it looks them
  # up by name (TaskerCore::Internal::Native maps its error kinds onto this hierarchy).
  # `context:` (a Hash) is what a step handler attaches to its error; the worker stores it with
  # the step's last_error.
  class Error < StandardError
    attr_reader :context

    def initialize(message = nil, context: nil)
      super(message)
      @context = context || {}
    end
  end

  # Bad or missing configuration; the message names the key.
  class ConfigurationError < Error; end

  # A template that cannot be registered: names the template, the step and the problem.
  class TemplateError < Error; end

  # create_task for a namespace/name/version that is not registered, or an unknown task uuid.
  # Raised by a step handler (a record it needs is missing), it fails the step for good.
  class NotFoundError < Error
    attr_reader :resource_type, :error_code

    def initialize(message = nil, resource_type: nil, error_code: nil, context: nil)
      super(message, context: context)
      @resource_type = resource_type
      @error_code = error_code
    end
  end

  # Invalid arguments to a public API call (a context that is not a Hash, say).
  class ArgumentError < Error; end

  # The database refused or could not be reached.
  class DatabaseError < Error; end

  # The orchestrator runtime could not do what was asked (start twice, used after fork...).
  class OrchestratorError < Error; end

  # wait_for_task ran out of time before the task finished; an attempt ran past its
  # timeout_seconds; or a handler's own operation timed out (retried).
  class TimeoutError < Error
    attr_reader :timeout_duration

    def initialize(message = nil, timeout_duration: nil, context: nil)
      super(message, context: context)
      @timeout_duration = timeout_duration
    end
  end

  # Raised by step handlers: the step failed and may succeed if tried again later.
  # retry_after (seconds) asks for a specific delay before the next attempt.
  class RetryableError < Error
    attr_reader :retry_after, :error_code, :metadata

    def initialize(message = "retryable failure", retry_after: nil, error_code: nil, metadata: {}, context: nil)
      super(message, context: context)
      @retry_after = retry_after
      @error_code = error_code
      @metadata = metadata
    end
  end

  # Raised by step handlers: the step failed and retrying cannot help.
  class PermanentError < Error
    attr_reader :error_code, :metadata

    def initialize(message = "permanent failure", error_code: nil, metadata: {}, context: nil)
      super(message, context: context)
      @error_code = error_code
      @metadata = metadata
    end
  end

  # The error classes under the names the Tasker family's handlers use. Most are the classes
  # above, so a `rescue` written against either name catches both; the rest subclass them.
  # Handlers written for Tasker load this file on its own, before the gem.
  module Errors
    Error = TaskerCore::Error
    # Tasker's common parent of the errors a step raises; rescuing it catches them all here too.
    ProceduralError = TaskerCore::Error
    RetryableError = TaskerCore::RetryableError
    PermanentError = TaskerCore::PermanentError
    NotFoundError = TaskerCore::NotFoundError
    TimeoutError = TaskerCore::TimeoutError
    ConfigurationError = TaskerCore::ConfigurationError

    # Input a handler cannot accept: permanent, naming the field.
    class ValidationError < PermanentError
      attr_reader :field

      def initialize(message = "validation failed", field: nil, error_code: nil, metadata: {}, context: nil)
        super(message, error_code: error_code, metadata: metadata,
                       context: field.nil? ? context : { "field" => field.to_s }.merge(context || {}))
        @field = field
      end
    end

    # A remote service could not be reached or answered with an error: retryable.
    class NetworkError < RetryableError
      attr_reader :status_code

      def initialize(message = "network failure", status_code: nil, retry_after: nil, error_code: nil,
                     metadata: {}, context: nil)
        super(message, retry_after: retry_after, error_code: error_code, metadata: metadata, context: context)
        @status_code = status_code
      end
    end
  end
end
