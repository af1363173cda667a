-- Time: a task's start (create_task(run_at:/delay:)) and recurring schedules.
--
-- tasks.run_at: no message of the task's steps is visible before it (send_step_messages); NULL
-- for a task that starts at once.
ALTER TABLE tasker.tasks ADD COLUMN run_at timestamptz;

-- Scheduled tasks not started yet, for the dashboard and the CLI.
CREATE INDEX tasks_run_at_idx ON tasker.tasks (run_at) WHERE run_at IS NOT NULL;

-- Recurring schedules (TaskerCore.register_schedule, upsert by name). next_fire_at is the next
-- fire time the orchestrators' loop creates a task for; the loop that fires it moves it on in
-- the same transaction, under the row's lock, so each fire time is fired once.
CREATE TABLE tasker.schedules (
    name          text PRIMARY KEY,
    namespace     text NOT NULL,
    task_name     text NOT NULL,
    version       text,
    cron          text NOT NULL,
    timezone      text NOT NULL,
    context       jsonb NOT NULL DEFAULT '{}'::jsonb,
    next_fire_at  timestamptz NOT NULL,
    last_fired_at timestamptz,
    last_task_uuid uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX schedules_next_fire_at_idx ON tasker.schedules (next_fire_at);
