-- Retention deletes rejected task requests by age (sql/purge_tasks.sql), oldest first.
CREATE INDEX rejected_task_requests_rejected_at_idx ON tasker.rejected_task_requests (rejected_at);
