# frozen_string_literal: true

module TaskerCore
  module Types
    # Why an attempt failed, as the orchestrator reads it. `retryable: false` fails the step
    # for good; `retry_after` (seconds) asks for a specific delay before the next attempt;
    # `context` is what the handler attached to its error (TaskerCore::Error#context).
    class StepError < Struct
      attributes class: Name,
                 message: Types::Strict::String,
                 retryable: Types::Strict::Bool,
                 retry_after: Number.optional.default(nil),
                 error_code: OptionalString.default(nil),
                 backtrace: StringList.default([].freeze),
                 context: JsonObject.optional.default(nil)

      # context only when the handler's error carried one.
      def to_h
        hash = super
        hash.delete("context") if hash["context"].nil?
        hash
      end

      # `class` is a reserved word for a reader; `error_class` reads the same attribute.
      def error_class
        self[:class]
      end
    end
  end
end
