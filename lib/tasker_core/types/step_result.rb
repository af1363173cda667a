# frozen_string_literal: true

require "json"

module TaskerCore
  module Types
    # The message a worker sends to `tasker_step_results` for one attempt of one step.
    # `result` is the handler's return value (any JSON) on success and nil on failure;
    # `error` is nil on success.
    class StepResult < Struct
      STATUSES = %w[success failure].freeze

      attributes task_uuid: Uuid,
                 step_uuid: Uuid,
                 attempt: PositiveInteger,
                 status: Types::Strict::String.enum(*STATUSES),
                 result: Types::Any,
                 error: StepError.type.optional,
                 metadata: ResultMetadata.type,
                 duration_ms: NonNegativeNumber,
                 handler_metadata?: Types::Any,
                 choose?: StringList,
                 items?: Types::Strict::Array

      def initialize(input = {})
        super
        return if (status == "success") == error.nil?

        raise InvalidError, "invalid #{self.class.name}: a #{status} result " \
                            "#{status == "success" ? "must not" : "must"} carry an error"
      end

      def success?
        status == "success"
      end

      def failure?
        status == "failure"
      end

      # handler_metadata, choose and items only when the handler gave them.
      def to_h
        hash = super
        %w[handler_metadata choose items].each { |key| hash.delete(key) if hash[key].nil? }
        hash
      end

      def to_json(*args)
        to_h.to_json(*args)
      end
    end
  end
end
