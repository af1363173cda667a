# frozen_string_literal: true

require "tasker_core/errors"
require "tasker_core/internal"

module TaskerCore
  # Retention: TaskerCore.purge deletes finished tasks (TaskerCore::States::TASK_FINISHED)
  # completed more than `older_than` seconds ago, with their steps, edges, audit rows and
  # archived queue messages, in batches of `batch_size` tasks, each its own short transaction
  # (sql/purge_tasks.sql); rejected task requests older than the cutoff go too. Open tasks
  # are never touched. The orchestrator's sweep does the same at a low rate when the
  # `retention` setting is on.
  module Retention
    # The batch the sweep uses too (src/store/retention.rs).
    BATCH_SIZE = Internal::PURGE_BATCH
    # The `retention` docs/operations.md recommends (14 days), from src/config/settings.rs.
    RECOMMENDED = Internal::RECOMMENDED_RETENTION
    # The tables counted, in the order they are reported.
    TABLES = %w[tasks workflow_steps workflow_step_edges task_transitions step_transitions archived_messages
                rejected_task_requests].freeze

    module_function

    # Rows deleted per table ({"tasks" => n, ...}); with dry_run, the rows that would be.
    def purge(configuration, older_than:, batch_size: BATCH_SIZE, dry_run: false)
      unless older_than.is_a?(Numeric) && older_than.real?
        raise ArgumentError, "older_than must be a number of seconds, got #{older_than.inspect}"
      end
      raise ArgumentError, "batch_size must be an Integer, got #{batch_size.inspect}" unless batch_size.is_a?(Integer)

      Internal::Client.purge(configuration.to_native, older_than.to_f, batch_size, dry_run ? true : false)
                      .transform_keys(&:to_s)
    end
  end

  class << self
    # See TaskerCore::Retention.purge.
    def purge(older_than:, batch_size: Retention::BATCH_SIZE, dry_run: false)
      Retention.purge(configuration, older_than: older_than, batch_size: batch_size, dry_run: dry_run)
    end
  end
end
