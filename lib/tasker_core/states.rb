# frozen_string_literal: true

module TaskerCore
  # The task and step states, and which of them are finished (a finished task or step never
  # moves again on its own). The CLI, the dashboard and task_status read them from here.
  module States
    TASK = %w[pending in_progress complete error cancelled resolved_manually].freeze
    STEP = %w[pending enqueued in_progress complete waiting_for_retry error cancelled resolved_manually].freeze
    TASK_FINISHED = %w[complete error cancelled resolved_manually].freeze
    STEP_FINISHED = %w[complete error cancelled resolved_manually].freeze
  end
end
