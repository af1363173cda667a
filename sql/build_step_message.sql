-- The message a worker gets for a step's next attempt (src/messaging/messages.rs and
-- TaskerCore::Types::StepMessage read it). It carries the step's timeout, so the worker's
-- read can make the message invisible for exactly that long (message_timeout), and the task's
-- priority, which orders the claim of a backlog (install_queue_functions).
CREATE OR REPLACE FUNCTION tasker.build_step_message(s tasker.workflow_steps, t tasker.tasks)
RETURNS jsonb
-- VOLATILE, as its clock_timestamp() is: PostgreSQL inlines a SQL function into its caller's
-- plan only if the body is no more volatile than declared; declared STABLE, it was parsed and
-- planned again in every statement that called it (docs/performance.md, "Plans").
LANGUAGE sql VOLATILE AS $$
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'step_uuid', s.step_uuid, 'namespace', t.namespace,
        'task_name', t.name, 'task_version', t.version, 'step_name', s.name,
        'handler', s.handler, 'attempt', s.attempts + 1, 'timeout_seconds', s.timeout_seconds,
        'priority', t.priority, 'enqueued_at', clock_timestamp())
$$;
