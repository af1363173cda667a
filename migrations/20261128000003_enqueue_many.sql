-- The enqueue for a batch of tasks at once: the orchestrator applies results batch by batch,
-- and advancing every task a batch touched takes a fixed number of statements instead of a
-- function call and four statements per task (docs/performance.md).

-- THE readiness rule, for the steps of many tasks. A step is ready when it is pending (or
-- waiting_for_retry with its backoff passed), every parent is complete or resolved_manually,
-- and it has attempts left.
CREATE FUNCTION tasker.steps_readiness(p_task_uuids uuid[])
RETURNS TABLE (task_uuid uuid, step_uuid uuid, name text, state text, attempts integer,
               max_attempts integer, parents_total integer, parents_done integer, ready boolean)
LANGUAGE sql STABLE AS $$
    SELECT s.task_uuid, s.step_uuid, s.name, s.state, s.attempts, s.max_attempts,
           count(p.step_uuid)::integer AS parents_total,
           count(p.step_uuid) FILTER (WHERE p.state IN ('complete', 'resolved_manually'))::integer
               AS parents_done,
           (s.state = 'pending'
              OR (s.state = 'waiting_for_retry'
                  AND (s.backoff_until IS NULL OR s.backoff_until <= clock_timestamp())))
           AND s.attempts < s.max_attempts
           AND count(p.step_uuid) = count(p.step_uuid)
                 FILTER (WHERE p.state IN ('complete', 'resolved_manually')) AS ready
    FROM tasker.workflow_steps s
    LEFT JOIN tasker.workflow_step_edges e ON e.to_step = s.step_uuid
    LEFT JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
    WHERE s.task_uuid = ANY (p_task_uuids)
    GROUP BY s.step_uuid
$$;

-- One task's readiness (the status views): the same rule.
CREATE OR REPLACE FUNCTION tasker.step_readiness(p_task_uuid uuid)
RETURNS TABLE (step_uuid uuid, name text, state text, attempts integer, max_attempts integer,
               parents_total integer, parents_done integer, ready boolean)
LANGUAGE sql STABLE AS $$
    SELECT step_uuid, name, state, attempts, max_attempts, parents_total, parents_done, ready
      FROM tasker.steps_readiness(ARRAY[p_task_uuid])
$$;

-- Moves every ready `pending` step of these tasks (pending or in_progress ones) to
-- `enqueued` and sends its message, in the caller's transaction (the caller holds the tasks'
-- row locks): one statement for the steps and their audit rows, one send per namespace.
-- Steps in waiting_for_retry already have their delayed message in the queue and are not
-- sent again here. Returns the number of steps enqueued.
CREATE FUNCTION tasker.enqueue_ready(p_task_uuids uuid[], p_reason text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_queues text[];
    v_msgs jsonb[];
    q record;
BEGIN
    WITH ready AS (
        SELECT s.step_uuid, t.namespace || '_queue' AS queue, tasker.build_step_message(s, t) AS msg
          FROM tasker.steps_readiness(p_task_uuids) r
          JOIN tasker.workflow_steps s ON s.step_uuid = r.step_uuid
          JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
         WHERE r.ready AND r.state = 'pending' AND t.state IN ('pending', 'in_progress')),
    moved AS (
        UPDATE tasker.workflow_steps s
           SET state = 'enqueued', enqueued_at = clock_timestamp(), updated_at = clock_timestamp()
          FROM ready
         WHERE s.step_uuid = ready.step_uuid AND s.state = 'pending'
        RETURNING s.step_uuid, s.task_uuid),
    audit AS (
        INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason)
        SELECT step_uuid, task_uuid, 'pending', 'enqueued', 0, p_reason FROM moved)
    SELECT array_agg(ready.queue), array_agg(ready.msg) INTO v_queues, v_msgs
      FROM ready JOIN moved USING (step_uuid);
    IF v_msgs IS NULL THEN
        RETURN 0;
    END IF;
    FOR q IN SELECT x.queue, array_agg(x.msg) AS msgs
               FROM unnest(v_queues, v_msgs) AS x(queue, msg) GROUP BY x.queue LOOP
        PERFORM tasker.queue_send_batch(q.queue, q.msgs);
    END LOOP;
    RETURN cardinality(v_msgs);
END;
$$;

-- Enqueue what became ready in these tasks, then report each task's step counts per state.
CREATE FUNCTION tasker.enqueue_and_count_all(p_task_uuids uuid[], p_reason text)
RETURNS TABLE (task_uuid uuid, counts jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tasker.enqueue_ready(p_task_uuids, p_reason);
    RETURN QUERY
        SELECT c.task_uuid, jsonb_object_agg(c.state, c.n)
          FROM (SELECT s.task_uuid, s.state, count(*) AS n FROM tasker.workflow_steps s
                 WHERE s.task_uuid = ANY (p_task_uuids) GROUP BY s.task_uuid, s.state) c
         GROUP BY c.task_uuid;
END;
$$;

-- The one-task forms, kept for scripts and the bench's plans: the same code.
CREATE OR REPLACE FUNCTION tasker.enqueue_ready_steps(p_task_uuid uuid, p_reason text DEFAULT 'ready')
RETURNS integer
LANGUAGE sql AS $$
    SELECT tasker.enqueue_ready(ARRAY[p_task_uuid], p_reason)
$$;

CREATE OR REPLACE FUNCTION tasker.enqueue_and_count(p_task_uuid uuid, p_reason text)
RETURNS jsonb
LANGUAGE sql AS $$
    SELECT COALESCE((SELECT counts FROM tasker.enqueue_and_count_all(ARRAY[p_task_uuid], p_reason)),
                    '{}'::jsonb)
$$;

-- How these functions' statements are planned. PL/pgSQL plans a statement with the call's
-- parameter values for as long as it guesses that pays (plan_cache_mode = auto), and for the
-- enqueue that guess is wrong: it planned its statement anew on every call (about 0.5 ms,
-- against 30 us to run it with the cached generic plan). And a plan made while a table is
-- nearly empty (a new installation, or the minute after a TRUNCATE, before autovacuum's
-- ANALYZE) scans it sequentially, which costs more with every row it gains. Every statement
-- in these functions looks rows up by key: they use their generic plans, and indexes even
-- while the statistics say a table is empty.
ALTER FUNCTION tasker.enqueue_ready(uuid[], text)
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION tasker.enqueue_and_count_all(uuid[], text)
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION tasker.claim_step(text, bigint, uuid, integer)
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION tasker.claim_step_only(uuid, integer)
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION tasker.submit_result(text, bigint, jsonb)
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
