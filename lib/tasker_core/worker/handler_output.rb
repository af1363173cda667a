# frozen_string_literal: true

module TaskerCore
  class Worker
    # Reads what a handler returned as [result, handler_metadata, error, shape]:
    #   - a TaskerCore::Types::StepHandlerCallResult success: its result and metadata;
    #   - a call result error: the `error` part a raised error of that kind would give;
    #   - for a StepHandler::Base handler, a Hash with `success: true/false` like a call result;
    #   - a TaskerCore::Decision or FanOut: its result, and its shape ({"choose" => names} or
    #     {"items" => elements}) for the result message;
    #   - anything else: the result itself.
    # What the handler wrote into `step.results` is merged under a Hash result (the returned
    # keys win) and is the result when the handler returned nil.
    module HandlerOutput
      CallResult = TaskerCore::Types::StepHandlerCallResult

      module_function

      def read(handler, value, step)
        value = CallResult.from_handler_output(value) if handler.is_a?(TaskerCore::StepHandler::Base)
        case value
        when TaskerCore::Decision then [with_step_results(step, value.result), nil, nil, { "choose" => value.chosen }]
        when TaskerCore::FanOut then [with_step_results(step, value.result), nil, nil, { "items" => value.items }]
        when CallResult::Success then [with_step_results(step, value.result), metadata(value.metadata), nil]
        when CallResult::Error then [nil, nil, error(value)]
        else [with_step_results(step, value), nil, nil]
        end
      end

      def with_step_results(step, value)
        written = step.results
        return value if written.empty?
        return written if value.nil?

        value.is_a?(Hash) ? written.merge(value) : value
      end

      def metadata(value)
        value.nil? || (value.respond_to?(:empty?) && value.empty?) ? nil : value
      end

      def error(call_result)
        ResultBuilder.error(call_result.error_type, call_result.message, retryable: call_result.retryable,
                                                                         error_code: call_result.error_code&.to_s,
                                                                         context: call_result.metadata)
      end
    end
  end
end
