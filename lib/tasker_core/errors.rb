# frozen_string_literal: true

module TaskerCore
  # Root of every error the gem raises. The Rust core raises these classes too: it looks them
  # up by name (TaskerCore::Internal::Native maps its error kinds onto this hierarchy).
  class Error < StandardError; end

  # Bad or missing configuration; the message names the key.
  class ConfigurationError < Error; end

  # A template that cannot be registered: names the template, the step and the problem.
  class TemplateError < Error; end

  # create_task for a namespace/name/version that is not registered, or an unknown task uuid.
  class NotFoundError < Error; end

  # Invalid arguments to a public API call (a context that is not a Hash, say).
  class ArgumentError < Error; end

  # The database refused or could not be reached.
  class DatabaseError < Error; end

  # The orchestrator runtime could not do what was asked (start twice, used after fork...).
  class OrchestratorError < Error; end

  # wait_for_task ran out of time before the task finished.
  class TimeoutError < Error; end

  # Raised by step handlers: the step failed and may succeed if tried again later.
  # retry_after (seconds) asks for a specific delay before the next attempt.
  class RetryableError < Error
    attr_reader :retry_after, :error_code, :metadata

    def initialize(message = "retryable failure", retry_after: nil, error_code: nil, metadata: {})
      super(message)
      @retry_after = retry_after
      @error_code = error_code
      @metadata = metadata
    end
  end

  # Raised by step handlers: the step failed and retrying cannot help.
  class PermanentError < Error
    attr_reader :error_code, :metadata

    def initialize(message = "permanent failure", error_code: nil, metadata: {})
      super(message)
      @error_code = error_code
      @metadata = metadata
    end
  end
end
