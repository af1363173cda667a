-- Task requests (tasker_task_requests) that carried a task uuid and could not become a task
-- (unknown template, invalid context, malformed, poison): the caller holds that uuid, so
-- task_status and wait_for_task answer with the reason (tasker.task_request_status) instead
-- of NotFound. Written by the orchestrator's request consumer in the transaction that
-- archives the request.
CREATE TABLE tasker.rejected_task_requests (
    task_uuid   uuid PRIMARY KEY,
    reason      text NOT NULL,
    request     jsonb NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
