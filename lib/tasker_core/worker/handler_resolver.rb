# frozen_string_literal: true

module TaskerCore
  class Worker
    # Turns a step's `handler` (a constant name from the template) into an object that
    # responds to `call(task, sequence, step)` (or `process`, the Tasker family's name): a new
    # instance per attempt for a class whose instances do (StepHandler subclasses get the
    # step's config), the object itself for a module or any other callable constant. A class
    # whose instances do not (File, Thread, PG::Connection) is refused before `new` is called.
    class HandlerResolver
      CONSTANT_PATH = /\A(?:::)?[A-Z]\w*(?:::[A-Z]\w*)*\z/
      ENTRY_POINTS = %i[call process].freeze

      # The handler cannot be found or used. Retrying cannot help: the failure is permanent.
      class Error < StandardError
        attr_reader :error_class

        def initialize(error_class, message)
          @error_class = error_class
          super(message)
        end
      end

      # Runs the handler's entry point: `call`, or `process` for a handler that has only that.
      def self.invoke(handler, task, sequence, step)
        handler.respond_to?(:call) ? handler.call(task, sequence, step) : handler.process(task, sequence, step)
      end

      def resolve(task, step)
        constant = lookup(task, step)
        handler = constant.is_a?(Class) ? instantiate(constant, task, step) : constant
        return handler if ENTRY_POINTS.any? { |name| handler.respond_to?(name) }

        raise not_callable(task, step, "does not respond to call(task, sequence, step)")
      end

      private

      def lookup(task, step)
        name = step.handler
        raise NameError, "#{name.inspect} is not a constant name" unless CONSTANT_PATH.match?(name)

        Object.const_get(name)
      rescue NameError => e
        raise Error.new("TaskerCore::UnknownHandlerError",
                        "unknown handler #{name} for step #{step.name.inspect} of #{describe(task)}: " \
                        "#{e.message.lines.first.to_s.strip} (is the handler class loaded in this worker process?)")
      end

      # Looks at the class's instance methods first: `new` of an arbitrary class can do anything
      # (open a file, start a thread, connect to a database).
      def instantiate(klass, task, step)
        unless ENTRY_POINTS.any? { |name| klass.public_method_defined?(name) }
          raise not_callable(task, step, "is a class that is not a step handler: an instance of it does not respond " \
                                         "to call(task, sequence, step) or process(task, sequence, step)")
        end

        if klass <= TaskerCore::StepHandler::Base
          klass.new.with_config(step.config)
        elsif klass <= TaskerCore::StepHandler
          klass.new(config: step.config)
        else
          klass.new
        end
      end

      def not_callable(task, step, problem)
        Error.new("TaskerCore::InvalidHandlerError",
                  "handler #{step.handler} of step #{step.name.inspect} (#{describe(task)}) #{problem}")
      end

      def describe(task)
        "task #{task.namespace}/#{task.name}"
      end
    end
  end
end
