-- Deletes the queued messages of a task (or of one of its steps) that no worker holds:
-- cancel_task and resolve_step, in their transaction. Returns how many.
-- Why the queue table: pgmq deletes by msg_id only, and these are found by content.
-- Locks: the caller holds the task and its steps. A message a worker's claim has locked
-- (FOR UPDATE by the read) is skipped, not waited for: that claim is waiting for the step's
-- lock we hold, so waiting here would be a deadlock. The claim then finds the step moved on
-- (stale) and the worker deletes the message.
CREATE OR REPLACE FUNCTION tasker.remove_step_messages(p_task_uuid uuid, p_step_uuid uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_queue text;
    v_count integer;
BEGIN
    SELECT namespace || '_queue' INTO v_queue FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    IF v_queue IS NULL OR NOT tasker.valid_queue_name(v_queue) THEN
        RETURN 0;
    END IF;
    EXECUTE format('DELETE FROM pgmq.%1$I WHERE msg_id IN (
                        SELECT msg_id FROM pgmq.%1$I
                         WHERE message->>''task_uuid'' = $1
                           AND ($2::text IS NULL OR message->>''step_uuid'' = $2)
                           FOR UPDATE SKIP LOCKED)', 'q_' || v_queue)
      USING p_task_uuid::text, p_step_uuid::text;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
