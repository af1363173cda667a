# frozen_string_literal: true

module TaskerCore
  # Base class for step handlers. Subclasses define `call(task, sequence, step)`; whatever it
  # returns (any JSON value) is the step's result:
  #
  #   class Fulfillment::ValidateOrder < TaskerCore::StepHandler
  #     def call(task, sequence, step)
  #       order = task.context.fetch("order")          # string keys
  #       raise TaskerCore::PermanentError.new("empty order", error_code: "EMPTY") if order.empty?
  #       {"validated" => true, "warehouse" => config["warehouse"]}
  #     end
  #   end
  #
  # The worker builds one instance per attempt with the step's template `config`. Inheriting
  # is optional: any class whose instances respond to `call(task, sequence, step)` will do.
  # Raise TaskerCore::RetryableError (optionally `retry_after:` seconds) for a failure worth
  # retrying, TaskerCore::PermanentError for one that is not; any other StandardError is
  # retried with backoff.
  class StepHandler
    attr_reader :config

    def initialize(config: {})
      @config = (config || {}).freeze
    end
  end
end

module TaskerCore
  class StepHandler
    # The base class of handlers written for the Tasker family's Ruby API: they define
    # `call(task, sequence, step)` or `process(task, sequence, step)`, are built with no
    # arguments, and read `config` (the step's handler_config) and `logger`. They may return
    # a TaskerCore::Types::StepHandlerCallResult, or a Hash with `success: true/false` read
    # the same way (see Worker::HandlerOutput).
    class Base < StepHandler
      # The worker calls `new` with no arguments. The keywords are accepted (and `config:` kept
      # until with_config replaces it) so that a subclass's `initialize(config: {}, logger: nil)`
      # calling a bare `super` still works.
      def initialize(config: {}, **_options)
        super(config: config)
      end

      # The worker hands the step's handler_config to the instance it built.
      def with_config(config)
        @config = (config || {}).freeze
        self
      end

      def logger
        TaskerCore.logger
      end
    end
  end
end
