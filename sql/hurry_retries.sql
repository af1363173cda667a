-- TaskerCore::Testing.run_task only: makes the delayed messages of a task's steps waiting for
-- a retry visible now, so a test does not sit out the backoff. The retry itself is unchanged
-- (same message, same attempt, same claim); only its wait is skipped. Returns how many.
-- Why the queue table: pgmq.set_vt works by msg_id, and these are found by content (a scan
-- of the namespace's queue: fine for a test database, never on a production path).
CREATE OR REPLACE FUNCTION tasker.hurry_retries(p_task_uuid uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_queue text;
    v_count integer;
BEGIN
    SELECT namespace || '_queue' INTO v_queue FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    IF v_queue IS NULL OR NOT tasker.valid_queue_name(v_queue) THEN
        RETURN 0;
    END IF;
    EXECUTE format('UPDATE pgmq.%1$I SET vt = clock_timestamp()
                     WHERE read_ct = 0 AND vt > clock_timestamp()
                       AND message->>''step_uuid'' IN (
                           SELECT step_uuid::text FROM tasker.workflow_steps
                            WHERE task_uuid = $1 AND state = ''waiting_for_retry'')',
                   'q_' || v_queue)
      USING p_task_uuid;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
