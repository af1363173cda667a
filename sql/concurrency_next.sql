-- These tasks just finished (in this transaction): the pending tasks with their concurrency
-- keys that may start now (concurrency_waiting says which), their rows locked, in uuid order.
-- A task whose row another transaction holds is skipped: that transaction is creating or
-- advancing it and decides under the key's lock, after this one commits.
CREATE OR REPLACE FUNCTION tasker.concurrency_next(p_finished uuid[]) RETURNS SETOF uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[];
    v_candidates uuid[];
    v_waiting uuid[];
BEGIN
    -- by key, the key's test in the FILTER (lock_concurrency_keys says why)
    SELECT array_agg(DISTINCT t.concurrency_key) FILTER (WHERE t.concurrency_key IS NOT NULL)
      INTO v_keys
      FROM tasker.tasks t WHERE t.task_uuid = ANY (p_finished);
    IF v_keys IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(t.task_uuid) INTO v_candidates
      FROM tasker.tasks t WHERE t.concurrency_key = ANY (v_keys) AND t.state = 'pending';
    IF v_candidates IS NULL THEN
        RETURN;
    END IF;
    -- once, into a variable: in the WHERE clause it would be evaluated for every candidate
    -- (stranded_tasks says what that cost)
    v_waiting := tasker.concurrency_waiting(v_candidates);
    RETURN QUERY
        SELECT t.task_uuid FROM tasker.tasks t
         WHERE t.task_uuid = ANY (v_candidates)
           AND NOT (t.task_uuid = ANY (v_waiting))
         ORDER BY t.task_uuid
           FOR UPDATE SKIP LOCKED;
END;
$$;
