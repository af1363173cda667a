# frozen_string_literal: true

module TaskerCore
  # A pgmq queue name tasker-core creates or reads (`<namespace>_queue`, or one of its own
  # queues): the same rule as tasker.valid_queue_name in SQL. Only a name that matches is
  # ever quoted into a statement.
  QUEUE_NAME = /\A[a-z][a-z0-9_]{0,46}\z/
end
