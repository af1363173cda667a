-- One batch of retention: at most p_limit tasks of tasker.purgeable_tasks, each locked (SKIP
-- LOCKED: a task someone is working on waits for the next batch) and checked again under its
-- lock, deleted with their steps, edges, audit rows and archived messages; and at most p_limit
-- rejected task requests (tasker.rejected_task_requests) older than the cutoff. Returns the
-- rows deleted per table; no task and no request deleted means nothing was left to purge.
-- The caller bounds the batch's time (lock_timeout, statement_timeout) and commits each
-- batch on its own.
CREATE OR REPLACE FUNCTION tasker.purge_tasks(p_cutoff timestamptz, p_limit integer)
RETURNS TABLE (tasks bigint, workflow_steps bigint, workflow_step_edges bigint,
               task_transitions bigint, step_transitions bigint, archived_messages bigint,
               rejected_task_requests bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_tasks uuid[];
    v_steps uuid[];
BEGIN
    SELECT coalesce(array_agg(t.task_uuid), '{}') INTO v_tasks
      FROM (SELECT t.task_uuid
              FROM tasker.tasks t
             WHERE t.task_uuid IN (SELECT tasker.purgeable_tasks(p_cutoff, p_limit))
               AND t.completed_at < p_cutoff
               AND t.state IN ({{FINISHED_TASK_STATES}})
               FOR UPDATE SKIP LOCKED) t;
    SELECT coalesce(array_agg(s.step_uuid), '{}') INTO v_steps
      FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);

    archived_messages := tasker.purge_archived(v_tasks, v_steps, true);
    DELETE FROM tasker.step_transitions x WHERE x.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS step_transitions = ROW_COUNT;
    DELETE FROM tasker.task_transitions x WHERE x.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS task_transitions = ROW_COUNT;
    DELETE FROM tasker.workflow_step_edges e WHERE e.from_step = ANY (v_steps);
    GET DIAGNOSTICS workflow_step_edges = ROW_COUNT;
    DELETE FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS workflow_steps = ROW_COUNT;
    DELETE FROM tasker.tasks t WHERE t.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS tasks = ROW_COUNT;
    DELETE FROM tasker.rejected_task_requests r
     WHERE r.task_uuid IN (SELECT o.task_uuid FROM tasker.rejected_task_requests o
                            WHERE o.rejected_at < p_cutoff
                            ORDER BY o.rejected_at LIMIT p_limit
                              FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS rejected_task_requests = ROW_COUNT;
    RETURN NEXT;
END;
$$;
