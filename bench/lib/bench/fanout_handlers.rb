# frozen_string_literal: true

module Bench
  # Handlers of the fanout section's template (Sections::Fanout::TEMPLATE): trivial work, so
  # the section measures what tasker-core itself does with a wide fan-out and its fan-in.
  module FanoutHandlers
    # The fan_out: the Array 0...context["elements"], one instance per element. Returned as
    # it is (the Array is then also the step's result, which every instance receives among
    # its ancestors' results), or with context["small_result"] as TaskerCore::FanOut with a
    # result of its own: the element count.
    class Split < TaskerCore::StepHandler
      def call(task, _sequence, _step)
        count = Integer(task.context.fetch("elements"))
        items = Array.new(count) { |i| i }
        task.context["small_result"] ? TaskerCore::FanOut.new(items, result: { "elements" => count }) : items
      end
    end

    # One instance per element: returns its element.
    class Element < TaskerCore::StepHandler
      def call(_task, _sequence, step)
        step.input
      end
    end

    # The fan-in: sums every instance's result, in element order.
    class Total < TaskerCore::StepHandler
      def call(_task, sequence, _step)
        results = sequence.get("element")
        { "elements" => results.size, "total" => results.sum }
      end
    end
  end
end
