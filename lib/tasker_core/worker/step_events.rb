# frozen_string_literal: true

require "tasker_core/notifications"

module TaskerCore
  class Worker
    # The TaskerCore::Notifications events of one attempt: step.started, then step.completed or
    # step.failed (step.retried comes from the orchestrator). Sent by whoever reports the
    # attempt: the executor, or the Watchdog for an attempt that ran past its timeout.
    module StepEvents
      module_function

      def started(context)
        instrument("step.started", context)
      end

      # `outcome` is what was reported: a HandlerRunner::Outcome.
      def finished(context, outcome)
        duration_ms = outcome.duration_ms.round(3)
        return instrument("step.completed", context, duration_ms: duration_ms, result: outcome.result) if
          outcome.success?

        error = outcome.error.transform_keys(&:to_sym).slice(:class, :message, :retryable, :error_code)
        instrument("step.failed", context, duration_ms: duration_ms, error: error,
                                           will_retry: error[:retryable] && context.attempt < context.step.max_attempts)
      end

      def instrument(event, context, **extra)
        task = context.task
        step = context.step
        TaskerCore::Notifications.instrument(
          "#{event}.tasker_core",
          { task_uuid: task.uuid, step_uuid: step.uuid, namespace: task.namespace, name: task.name,
            step_name: step.name, handler: step.handler, attempt: context.attempt,
            max_attempts: step.max_attempts, **extra }
        )
      end
    end
  end
end
