-- Takes the row lock of the concurrency key of each of these tasks that has one and has not
-- started, in key order (so two transactions never wait for each other's keys), creating the
-- key's row on first use. Held to the end of the transaction: the tasks of one key start one
-- transaction at a time, and each sees the states the previous one committed.
-- Returns whether any of them has a key (when none has, the enqueue need not ask
-- concurrency_waiting which must wait).
CREATE OR REPLACE FUNCTION tasker.lock_concurrency_keys(p_task_uuids uuid[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[];
BEGIN
    -- By key; the other tests in the FILTER, where the planner cannot take them for a reason to
    -- read a partial index (tasks_concurrency_key_idx, tasks_active_idx) whole instead
    -- (enqueue_ready says what that cost).
    SELECT array_agg(DISTINCT t.concurrency_key ORDER BY t.concurrency_key)
           FILTER (WHERE t.concurrency_key IS NOT NULL AND t.state = 'pending') INTO v_keys
      FROM tasker.tasks t
     WHERE t.task_uuid = ANY (p_task_uuids);
    IF v_keys IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO tasker.concurrency_keys (key) SELECT unnest(v_keys) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM tasker.concurrency_keys k WHERE k.key = ANY (v_keys) ORDER BY k.key FOR UPDATE;
    RETURN true;
END;
$$;
