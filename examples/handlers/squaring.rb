# frozen_string_literal: true

# The two handlers every example workflow is built from. Each shape's namespace subclasses
# them (see the other files here) so a template names handlers of its own namespace.
module Examples
  # A root step: squares the task's context["even_number"].
  class SquareEvenNumber < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      number = task.context["even_number"]
      unless number.is_a?(Integer) && number.even?
        raise TaskerCore::PermanentError.new("context must have an even integer even_number, got #{number.inspect}",
                                             error_code: "INVALID_EVEN_NUMBER")
      end

      number**2
    end
  end

  # A step with parents: squares the product of its direct parents' results. Integers stay
  # exact however large they grow (the tree and mixed DAG end at 2**64).
  class SquareParents < TaskerCore::StepHandler
    def call(_task, sequence, step)
      inputs = step.depends_on.map { |parent| sequence.get(parent) }
      unless inputs.all?(Integer)
        raise TaskerCore::PermanentError.new("step #{step.name} expects integer parents, " \
                                             "got #{sequence.parents.inspect}", error_code: "INVALID_PARENT_RESULT")
      end

      inputs.reduce(1, :*)**2
    end
  end
end
