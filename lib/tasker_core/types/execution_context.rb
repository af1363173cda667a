# frozen_string_literal: true

require "tasker_core/sequence"

module TaskerCore
  module Types
    # What tasker.claim_step returns for a claimed step: everything a handler needs, read in
    # one round trip. `ancestors` maps every ancestor step's name to its results (a per-element
    # template's: the Array of its instances' results); `skipped` names the skipped ones.
    class ExecutionContext < Struct
      Task = Types::Task
      Step = Types::Step

      attributes attempt: PositiveInteger,
                 task: Task.type,
                 step: Step.type,
                 ancestors: JsonObject.default({}.freeze),
                 skipped: StringList.default([].freeze)

      # The handler's view of the ancestors' results.
      def sequence
        TaskerCore::Sequence.new(ancestors, depends_on: step.depends_on, step_name: step.name, skipped: skipped)
      end
    end
  end
end
