-- Retention (TaskerCore.purge, the sweep's `retention`): finds the finished tasks whose
-- completion is older than a cutoff, oldest first, without reading the open ones. completed_at
-- is set exactly when a task finishes and cleared when it is retried (store::settle).
CREATE INDEX tasks_completed_idx ON tasker.tasks (completed_at) WHERE completed_at IS NOT NULL;
