-- Unfinished tasks with a ready step still pending: nobody enqueued it (a crash between
-- processes, a manual resolution, a reset). The recovery sweep advances them
-- (src/orchestration/sweep.rs). Readiness is steps_readiness's, not spelled again here.
-- A task waiting for its concurrency key (concurrency_waiting) is not stranded; one that may
-- start now is (its start was missed), so no slot stays unused.
-- The waiting tasks are asked for once, into a variable. Written inside the WHERE clause, the
-- call was evaluated again for every step of every open task: with 2,000 open tasks (8,000
-- steps) one sweep took 1.2-4 s during the bench's throughput run and 9.4 s with every task
-- stuck, a core taken from the hot path every sweep_interval (docs/performance.md).
CREATE OR REPLACE FUNCTION tasker.stranded_tasks(p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_open uuid[];
    v_waiting uuid[];
BEGIN
    v_open := ARRAY(SELECT t.task_uuid FROM tasker.tasks t WHERE t.state IN ({{OPEN_TASK_STATES}}));
    v_waiting := tasker.concurrency_waiting(v_open);
    RETURN QUERY
        SELECT DISTINCT r.task_uuid
          FROM tasker.steps_readiness(v_open) r
         WHERE r.ready AND r.state = 'pending'
           AND NOT (r.task_uuid = ANY (v_waiting))
         LIMIT p_limit;
END;
$$;
