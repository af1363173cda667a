# frozen_string_literal: true

module TaskerCore
  module Types
    # What a handler written for the Tasker family's API may return:
    #
    #   StepHandlerCallResult.success(result: {"total" => 42}, metadata: {"source" => "cache"})
    #   StepHandlerCallResult.error(error_type: "PaymentDeclined", message: "card declined",
    #                               error_code: "DECLINED", retryable: false)
    #
    # A success's `result` is the step's result and its `metadata` is stored beside it; an
    # error fails the step as raising an error of that kind would.
    module StepHandlerCallResult
      Success = ::Struct.new(:result, :metadata, keyword_init: true) do
        def success?
          true
        end
      end

      Error = ::Struct.new(:error_type, :message, :error_code, :retryable, :metadata, keyword_init: true) do
        def success?
          false
        end
      end

      # The keys a Hash written as a call result may have besides `success`.
      SUCCESS_KEYS = %w[success result metadata].freeze
      ERROR_KEYS = %w[success error_type message error_code retryable metadata].freeze

      module_function

      def success(result:, metadata: {})
        Success.new(result: result, metadata: metadata || {})
      end

      def error(error_type:, message:, error_code: nil, retryable: false, metadata: {})
        Error.new(error_type: error_type.to_s, message: message.to_s, error_code: error_code,
                  retryable: retryable ? true : false, metadata: metadata || {})
      end

      # A call result for whatever a handler returned: a call result as it is; a Hash whose
      # `success` is true or false (and whose other keys are a call result's) read as one;
      # anything else is the result of a success.
      def from_handler_output(value)
        case value
        when Success, Error then value
        when Hash then from_hash(value) || success(result: value)
        else success(result: value)
        end
      end

      def from_hash(hash)
        keys = hash.keys.map(&:to_s)
        flag = hash.key?(:success) ? hash[:success] : hash["success"]
        read = ->(key) { hash.key?(key.to_sym) ? hash[key.to_sym] : hash[key] }
        if flag == true && (keys - SUCCESS_KEYS).empty?
          success(result: read.call("result"), metadata: read.call("metadata"))
        elsif flag == false && (keys - ERROR_KEYS).empty?
          error(error_type: read.call("error_type") || "StepHandlerError", message: read.call("message"),
                error_code: read.call("error_code"), retryable: read.call("retryable"),
                metadata: read.call("metadata"))
        end
      end
    end
  end
end
