# frozen_string_literal: true

module TaskerCore
  module Types
    # The message the orchestrator puts on `<namespace>_queue` for one attempt of one step
    # (built by tasker.build_step_message, sql/build_step_message.sql). Extra keys are ignored so the message can grow.
    class StepMessage < Struct
      attributes task_uuid: Uuid,
                 step_uuid: Uuid,
                 namespace: Name,
                 task_name: Name,
                 step_name: Name,
                 handler: Name,
                 attempt: PositiveInteger,
                 task_version?: OptionalString,
                 timeout_seconds?: PositiveInteger.optional,
                 enqueued_at?: OptionalString
    end
  end
end
