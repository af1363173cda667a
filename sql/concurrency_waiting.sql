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
    -- The tasks are read by key (OFFSET 0 keeps the other tests out of their scan, where the
    -- planner could take them for a reason to read a partial index whole instead:
    -- lock_concurrency_keys says why).
    RETURN (SELECT COALESCE(array_agg(t.task_uuid), '{}')
      FROM (SELECT * FROM tasker.tasks k WHERE k.task_uuid = ANY (p_task_uuids) OFFSET 0) t
     WHERE t.concurrency_key IS NOT NULL AND t.state = 'pending'
       AND (SELECT count(*) FROM tasker.tasks r
             WHERE r.concurrency_key = t.concurrency_key AND r.state = 'in_progress')
         + (SELECT count(*) FROM tasker.tasks w
             WHERE w.concurrency_key = t.concurrency_key AND w.state = 'pending'
               AND (w.created_at, w.task_uuid) < (t.created_at, t.task_uuid))
         >= t.concurrency_limit);
END;
$$;
