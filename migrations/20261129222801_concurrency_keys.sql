-- Concurrency keys (a template's `concurrency: {key:, limit:}`): a task whose context has the
-- key gets its value here ("account.id=7") and the template's limit; at most `limit` tasks
-- with the same key are in_progress at once (tasker.concurrency_waiting holds the rule).
-- NULL: no key, unlimited.
ALTER TABLE tasker.tasks ADD COLUMN concurrency_key text, ADD COLUMN concurrency_limit integer;
CREATE INDEX tasks_concurrency_key_idx ON tasker.tasks (concurrency_key, state, created_at, task_uuid)
    WHERE concurrency_key IS NOT NULL;

-- One row per key value ever used: the row lock that serializes the start of tasks with the
-- same key (tasker.lock_concurrency_keys).
CREATE TABLE tasker.concurrency_keys (
    key text PRIMARY KEY
);
