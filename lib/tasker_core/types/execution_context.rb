# frozen_string_literal: true

require "tasker_core/sequence"

module TaskerCore
  module Types
    # What tasker.claim_step returns for a claimed step: everything a handler needs, read in
    # one round trip. `ancestors` maps every ancestor step's name to its results (a per-element
    # template's: the Array of its instances' results); `skipped` names the skipped ones;
    # `deferred` the ones whose results were too large to carry (the Sequence reads them when
    # asked, through the loader the worker gives it).
    class ExecutionContext < Struct
      Task = Types::Task
      Step = Types::Step

      attributes attempt: PositiveInteger,
                 task: Task.type,
                 step: Step.type,
                 ancestors: JsonObject.default({}.freeze),
                 skipped: StringList.default([].freeze),
                 deferred: StringList.default([].freeze)

      # The handler's view of the ancestors' results.
      # `loader`: called with an ancestor's name, returns its results (a deferred one's).
      def sequence(loader: nil)
        TaskerCore::Sequence.new(ancestors, depends_on: step.depends_on, step_name: step.name, skipped: skipped,
                                            deferred: deferred, loader: loader)
      end
    end
  end
end
