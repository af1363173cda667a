-- The archived messages (pgmq.a_<queue>, every valid queue) of these tasks and steps: step
-- messages carry task_uuid, results step_uuid, task requests task_uuid. Deletes them, or only
-- counts them when p_delete is false. Returns how many.
-- Why the archive tables: pgmq has no function that deletes archived messages (pgmq.purge_queue
-- empties the live queue only), nor one that selects them by content.
CREATE OR REPLACE FUNCTION tasker.purge_archived(p_task_uuids uuid[], p_step_uuids uuid[],
                                                 p_delete boolean)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_queue text;
    v_rows  bigint;
    v_total bigint := 0;
    v_tasks text[] := p_task_uuids::text[];
    v_steps text[] := p_step_uuids::text[];
BEGIN
    IF cardinality(v_tasks) = 0 THEN
        RETURN 0;
    END IF;
    FOR v_queue IN SELECT m.queue_name FROM pgmq.meta m ORDER BY m.queue_name LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        IF p_delete THEN
            EXECUTE format('DELETE FROM pgmq.%I
                             WHERE message->>''task_uuid'' = ANY ($1)
                                OR message->>''step_uuid'' = ANY ($2)', 'a_' || v_queue)
              USING v_tasks, v_steps;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
        ELSE
            EXECUTE format('SELECT count(*) FROM pgmq.%I
                             WHERE message->>''task_uuid'' = ANY ($1)
                                OR message->>''step_uuid'' = ANY ($2)', 'a_' || v_queue)
              INTO v_rows
              USING v_tasks, v_steps;
        END IF;
        v_total := v_total + v_rows;
    END LOOP;
    RETURN v_total;
END;
$$;
