# frozen_string_literal: true

module TaskerCore
  class Worker
    # Turns a step's `handler` (a constant name from the template) into an object that
    # responds to `call(task, sequence, step)`: a new instance per attempt for a class
    # (StepHandler subclasses get the step's config), the object itself for a module or
    # any other callable constant.
    class HandlerResolver
      CONSTANT_PATH = /\A(?:::)?[A-Z]\w*(?:::[A-Z]\w*)*\z/

      # The handler cannot be found or used. Retrying cannot help: the failure is permanent.
      class Error < StandardError
        attr_reader :error_class

        def initialize(error_class, message)
          @error_class = error_class
          super(message)
        end
      end

      def resolve(task, step)
        constant = lookup(task, step)
        handler = constant.is_a?(Class) ? instantiate(constant, step) : constant
        return handler if handler.respond_to?(:call)

        raise Error.new("TaskerCore::InvalidHandlerError",
                        "handler #{step.handler} of step #{step.name.inspect} " \
                        "(#{describe(task)}) does not respond to call(task, sequence, step)")
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

      def instantiate(klass, step)
        klass <= TaskerCore::StepHandler ? klass.new(config: step.config) : klass.new
      end

      def describe(task)
        "task #{task.namespace}/#{task.name}"
      end
    end
  end
end
