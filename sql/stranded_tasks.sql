-- Unfinished tasks with a ready step still pending: nobody enqueued it (a crash between
-- processes, a manual resolution, a reset). The recovery sweep advances them
-- (src/orchestration/sweep.rs). Readiness is steps_readiness's, not spelled again here.
-- A task waiting for its concurrency key (concurrency_waiting) is not stranded; one that may
-- start now is (its start was missed), so no slot stays unused.
CREATE OR REPLACE FUNCTION tasker.stranded_tasks(p_limit integer) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    WITH open AS (SELECT ARRAY(SELECT t.task_uuid FROM tasker.tasks t
                                WHERE t.state IN ({{OPEN_TASK_STATES}})) AS uuids)
    SELECT DISTINCT r.task_uuid
      FROM open, tasker.steps_readiness(open.uuids) r
     WHERE r.ready AND r.state = 'pending'
       AND NOT (r.task_uuid = ANY (tasker.concurrency_waiting(open.uuids)))
     LIMIT p_limit
$$;
