-- Operator controls: removing a task's (or one step's) messages from its namespace queue.

-- Deletes the queued messages of a task (all its steps, or only p_step_uuid's) from the
-- task's namespace queue. Returns how many were removed. The queue name comes from the
-- task's namespace (a validated identifier) and is quoted with %I.
CREATE FUNCTION tasker.remove_step_messages(p_task_uuid uuid, p_step_uuid uuid DEFAULT NULL)
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
    EXECUTE format('DELETE FROM pgmq.%I WHERE message->>''task_uuid'' = $1
                      AND ($2::text IS NULL OR message->>''step_uuid'' = $2)', 'q_' || v_queue)
      USING p_task_uuid::text, p_step_uuid::text;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
