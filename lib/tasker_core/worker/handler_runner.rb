# frozen_string_literal: true

require "tasker_core/clock"

module TaskerCore
  class Worker
    # Runs one claimed step's handler and reports what happened as an Outcome: the result
    # (already checked to be plain JSON) or the error, and how long it took. Never raises
    # for anything the handler raises, Exception included (Interrupt, NoMemoryError,
    # SignalException, SystemExit): the executor thread outlives every handler. A handler that
    # kills its own thread is the Watchdog's to report. How long a handler may run is the
    # Watchdog's too (timeout_seconds).
    class HandlerRunner
      # `metadata`: what a handler returning a StepHandlerCallResult attached to its result.
      # `shape`: a decision's choice or a fan_out's elements (see HandlerOutput).
      Outcome = Struct.new(:result, :error, :duration_ms, :metadata, :shape, keyword_init: true) do
        def success?
          error.nil?
        end
      end

      def initialize(logger:, resolver: HandlerResolver.new)
        @logger = logger
        @resolver = resolver
      end

      # `loader` reads a deferred ancestor's results (Types::ExecutionContext#sequence).
      def run(context, loader: nil)
        started = Clock.now
        result, error, metadata, shape = attempt(context, loader)
        duration_ms = (Clock.now - started) * 1000.0
        Outcome.new(result: result, error: error, duration_ms: duration_ms, metadata: metadata, shape: shape)
      end

      private

      def attempt(context, loader)
        task = context.task
        step = context.step
        result, metadata, error, shape = wrapped do
          handler = @resolver.resolve(task, step)
          sequence = context.sequence(loader: loader)
          HandlerOutput.read(handler, HandlerResolver.invoke(handler, task, sequence, step), step)
        end
        return [nil, error] if error

        [JsonValue.normalize(result), nil, metadata && JsonValue.normalize(metadata, "metadata", 2),
         shape && JsonValue.normalize(shape)]
      rescue HandlerResolver::Error => e
        [nil, ResultBuilder.error(e.error_class, e.message, retryable: false)]
      rescue JsonValue::NotJson => e
        [nil, serialization_error(context, e)]
      rescue Exception => e # rubocop:disable Lint/RescueException -- see the class comment
        [nil, ResultBuilder.error_for(e)]
      end

      # Around the lookup and the call: configuration.handler_wrapper (the Rails reloader, so
      # handlers are autoloaded, reloaded and release their ActiveRecord connections).
      def wrapped(&)
        wrapper = Settings.configuration.handler_wrapper if Settings.configuration.respond_to?(:handler_wrapper)
        wrapper ? wrapper.call(&) : yield
      end

      def serialization_error(context, error)
        message = "step #{context.step.name.inspect} (handler #{context.step.handler}) returned a value " \
                  "that is not JSON: #{error.message}"
        ResultBuilder.error("TaskerCore::SerializationError", message, retryable: false)
      end
    end
  end
end
