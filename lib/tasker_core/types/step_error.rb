# frozen_string_literal: true

module TaskerCore
  module Types
    # Why an attempt failed, as the orchestrator reads it. `retryable: false` fails the step
    # for good; `retry_after` (seconds) asks for a specific delay before the next attempt.
    class StepError < Struct
      attributes class: Name,
                 message: Types::Strict::String,
                 retryable: Types::Strict::Bool,
                 retry_after: Number.optional.default(nil),
                 error_code: OptionalString.default(nil),
                 backtrace: StringList.default([].freeze)

      # `class` is a reserved word for a reader; `error_class` reads the same attribute.
      def error_class
        self[:class]
      end
    end
  end
end
