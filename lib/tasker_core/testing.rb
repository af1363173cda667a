# frozen_string_literal: true

require "tasker_core/testing/inline_run"

module TaskerCore
  # Runs tasks inline for tests, with no orchestrator and no worker:
  #
  #   status = TaskerCore::Testing.run_task(namespace: "fulfillment", name: "process_order",
  #                                         version: "1.0.0", context: { "order_id" => 1 })
  #   expect(status.state).to eq("complete")
  #
  # The task goes through the production code paths, one step at a time, in the calling
  # thread (see InlineRun). Handlers run there too, so a test sees their effects (and its
  # database transaction-free state) as soon as run_task returns.
  module Testing
    module_function

    # Creates the task (TaskerCore.create_task, any of its options) and runs it to the end;
    # returns its final TaskerCore::TaskStatus (complete, error, cancelled or
    # resolved_manually). Raises TaskerCore::Error if the task stops where nothing in this
    # thread can move it on (a step held by another process's worker).
    def run_task(namespace:, name:, version: nil, context: {}, **options)
      if options.key?(:connection)
        raise TaskerCore::ArgumentError, "run_task creates the task itself and runs it at once; " \
                                         "connection: (a task created after a commit) needs a running orchestrator"
      end

      task = TaskerCore.create_task(namespace: namespace, name: name, version: version, context: context,
                                    **options)
      InlineRun.new(task).run
    end
  end
end
