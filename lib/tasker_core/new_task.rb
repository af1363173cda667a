# frozen_string_literal: true

require "tasker_core/arguments"
require "tasker_core/errors"
require "tasker_core/start_time"

module TaskerCore
  # The request of a new task, checked field by field (TaskerCore::ArgumentError naming the
  # field, nothing turned into JSON by to_s), as create_task and each element of create_tasks
  # hand it to the core. The keywords of `request` are the task's fields create_task takes.
  module NewTask
    module_function

    # `run_at:` (a Time) or `delay:` (seconds) holds the whole task until then (StartTime).
    def request(namespace:, name:, version: nil, context: {}, initiator: nil, source_system: nil, reason: nil,
                tags: [], priority: 0, idempotency_key: nil, run_at: nil, delay: nil)
      unless context.is_a?(Hash)
        raise ArgumentError, "context for #{namespace}/#{name} must be a Hash, got #{context.class}"
      end

      text = { initiator: initiator, source_system: source_system, reason: reason, idempotency_key: idempotency_key }
      { namespace: Arguments.text(namespace.to_s, "namespace"), name: Arguments.text(name.to_s, "name"),
        version: Arguments.text(version&.to_s, "version"), context: Arguments.json(context, "context"),
        **text.to_h { |field, value| [field, Arguments.text(value, field.to_s)] },
        tags: Array(tags).each_with_index.map { |tag, i| Arguments.text(tag.to_s, "tags[#{i}]") },
        priority: Integer(priority), run_at: StartTime.iso8601(run_at: run_at, delay: delay) }
    end

    # The requests of create_tasks, every one checked before any is written. An error names
    # the element ("create_tasks[3]: ...") and keeps the class create_task would raise.
    def batch(requests)
      unless requests.is_a?(Array)
        raise ArgumentError, "create_tasks takes an Array of Hashes of create_task's keywords, got #{requests.class}"
      end

      requests.each_with_index.map { |options, index| element(options, index) }
    end

    def element(options, index)
      unless options.is_a?(Hash)
        raise ArgumentError, "create_tasks[#{index}] must be a Hash of create_task's keywords, got #{options.class}"
      end

      if options.key?(:connection)
        raise ArgumentError, "create_tasks[#{index}]: connection: is not supported by create_tasks (its tasks " \
                             "commit in a transaction of their own); use create_task(..., connection:) per task"
      end

      prefixed(index) { request(**options) }
    end

    def prefixed(index)
      yield
    rescue Error, ::ArgumentError, TypeError => e
      raise e.class, "create_tasks[#{index}]: #{e.message}", e.backtrace
    end
  end
end
