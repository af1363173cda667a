-- THE concurrency-key rule: of these tasks, the ones that must wait. A pending task with a
-- concurrency key may start only while fewer than its limit of tasks with the same key are
-- in_progress, and only after every pending task with that key created before it (creation
-- order). Used by the enqueue (enqueue_ready, under lock_concurrency_keys), the start of the
-- next waiting task when one finishes (concurrency_next), the recovery sweep
-- (stranded_tasks) and task_status. Tasks without a key never wait.
-- PL/pgSQL, not SQL, so its plan is kept for the connection: as a SQL function it was parsed
-- and planned again in every enqueue (docs/performance.md, "Plans").
CREATE OR REPLACE FUNCTION tasker.concurrency_waiting(p_task_uuids uuid[]) RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Each key's queue is read once, in creation order, through tasks_concurrency_key_idx
    -- (concurrency_key, state, created_at, task_uuid): a task's place in it is the number of
    -- pending tasks of its key ahead of it. Counting those ahead with a lookup per task was
    -- quadratic in the queue's length: 6.7 s for one call with 10,000 tasks waiting on one key
    -- (each task's end asks about all of them, concurrency_next), 29 ms this way
    -- (docs/performance.md). The asked tasks are read by key (OFFSET 0 keeps the other tests
    -- out of their scan, where the planner could take them for a reason to read a partial
    -- index whole instead: lock_concurrency_keys says why).
    RETURN (
        WITH keys AS (
            SELECT DISTINCT a.concurrency_key AS key
              FROM (SELECT * FROM tasker.tasks k WHERE k.task_uuid = ANY (p_task_uuids) OFFSET 0) a
             WHERE a.concurrency_key IS NOT NULL AND a.state = 'pending')
        SELECT COALESCE(array_agg(q.task_uuid), '{}')
          FROM keys
         CROSS JOIN LATERAL (
               SELECT count(*) AS n FROM tasker.tasks r
                WHERE r.concurrency_key = keys.key AND r.state = 'in_progress') running
         CROSS JOIN LATERAL (
               SELECT w.task_uuid, w.concurrency_limit,
                      row_number() OVER (ORDER BY w.created_at, w.task_uuid) - 1 AS ahead
                 FROM tasker.tasks w
                WHERE w.concurrency_key = keys.key AND w.state = 'pending') q
         WHERE q.task_uuid = ANY (p_task_uuids)
           AND running.n + q.ahead >= q.concurrency_limit);
END;
$$;
