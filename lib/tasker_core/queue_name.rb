# frozen_string_literal: true

require "tasker_core/internal"

module TaskerCore
  # A pgmq queue name tasker-core creates or reads (`<namespace>_queue`, or one of its own
  # queues): the core's rule (src/messaging/queue.rs), the same as tasker.valid_queue_name in
  # SQL. Only a name that matches is ever quoted into a statement.
  QUEUE_NAME = Regexp.new("\\A#{Internal::QUEUE_NAME_PATTERN}\\z")
  # A namespace: its queue `<namespace>_queue` must be a QUEUE_NAME.
  NAMESPACE_NAME = Regexp.new("\\A#{Internal::NAMESPACE_PATTERN}\\z")
end
