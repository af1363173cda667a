-- What TaskerCore.purge would delete now (its dry run), per table, as tasker.purge_tasks
-- counts them; reads only (not STABLE: it calls tasker.purge_archived, which can delete).
CREATE OR REPLACE FUNCTION tasker.purge_counts(p_cutoff timestamptz)
RETURNS TABLE (tasks bigint, workflow_steps bigint, workflow_step_edges bigint,
               task_transitions bigint, step_transitions bigint, archived_messages bigint,
               rejected_task_requests bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_tasks uuid[];
    v_steps uuid[];
BEGIN
    SELECT coalesce(array_agg(u), '{}') INTO v_tasks FROM tasker.purgeable_tasks(p_cutoff, NULL) u;
    SELECT coalesce(array_agg(s.step_uuid), '{}') INTO v_steps
      FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);
    tasks := cardinality(v_tasks);
    workflow_steps := cardinality(v_steps);
    SELECT count(*) INTO workflow_step_edges
      FROM tasker.workflow_step_edges e WHERE e.from_step = ANY (v_steps);
    SELECT count(*) INTO task_transitions
      FROM tasker.task_transitions x WHERE x.task_uuid = ANY (v_tasks);
    SELECT count(*) INTO step_transitions
      FROM tasker.step_transitions x WHERE x.task_uuid = ANY (v_tasks);
    archived_messages := tasker.purge_archived(v_tasks, v_steps, false);
    SELECT count(*) INTO rejected_task_requests
      FROM tasker.rejected_task_requests r WHERE r.rejected_at < p_cutoff;
    RETURN NEXT;
END;
$$;
