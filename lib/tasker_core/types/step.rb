# frozen_string_literal: true

module TaskerCore
  module Types
    # The step being run: its template `config` (string keys), the attempt in progress (1 on
    # the first try), and the names of its direct parents in template order.
    class Step < Struct
      attributes uuid: Uuid,
                 name: Name,
                 handler: Name,
                 config: JsonObject,
                 attempt: PositiveInteger,
                 max_attempts: PositiveInteger,
                 timeout_seconds: PositiveInteger,
                 depends_on: StringList,
                 input?: Types::Any,
                 index?: NonNegativeInteger.optional

      # The Tasker family's names: `step_name`, `inputs` (the step's config), `attempts` (the
      # attempt in progress) and `results`, a Hash the handler may write into; what it holds
      # is merged under the handler's return value (see Worker::HandlerOutput).
      def step_name
        name
      end

      def inputs
        config
      end

      def attempts
        attempt
      end

      def results
        @results ||= {}
      end

      # A fan_out's instance: true; its element is `input`, its position `index`.
      def element?
        !index.nil?
      end

      def first_attempt?
        attempt == 1
      end

      def last_attempt?
        attempt >= max_attempts
      end
    end
  end
end
