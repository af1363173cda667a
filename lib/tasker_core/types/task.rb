# frozen_string_literal: true

module TaskerCore
  module Types
    # The task a step belongs to, as a handler sees it: `task.context` is the Hash given to
    # create_task, with string keys (it went through JSON).
    class Task < Struct
      attributes uuid: Uuid,
                 namespace: Name,
                 name: Name,
                 version: Types::Strict::String,
                 context: JsonObject,
                 initiator?: OptionalString,
                 source_system?: OptionalString,
                 reason?: OptionalString,
                 tags?: StringList.default([].freeze)

      # The Tasker family's names for the uuid.
      def task_uuid
        uuid
      end
      alias task_id task_uuid
    end
  end
end
