-- Unfinished tasks with a ready step still pending: nobody enqueued it (a crash between
-- processes, a manual resolution, a reset). The recovery sweep advances them
-- (src/orchestration/sweep.rs). Readiness is steps_readiness's, not spelled again here.
CREATE OR REPLACE FUNCTION tasker.stranded_tasks(p_limit integer) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT r.task_uuid
      FROM tasker.steps_readiness(ARRAY(SELECT t.task_uuid FROM tasker.tasks t
                                         WHERE t.state IN ({{OPEN_TASK_STATES}}))) r
     WHERE r.ready AND r.state = 'pending'
     LIMIT p_limit
$$;
