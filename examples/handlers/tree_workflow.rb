# frozen_string_literal: true

require_relative "squaring"

# Handlers of templates/tree_workflow.yaml.
module TreeWorkflow
  module StepHandlers
    # root: squares the task's even_number.
    class SquareEvenNumber < Examples::SquareEvenNumber; end

    # Every other step: squares the product of its parents' results.
    class SquareParents < Examples::SquareParents; end
  end
end
