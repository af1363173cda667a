-- For each of these tasks (their rows locked by the caller): moves every pending step all of
-- whose parents were skipped to skipped, then every ready pending step to enqueued
-- (move_steps) and sends its message (send_step_messages), then returns the task's step
-- counts by state, from which the caller settles the task's own state
-- (src/state/task.rs). One call for a whole batch of tasks. p_changed, when given, names the
-- steps whose state just changed or that were just created (the result batch's): only they and
-- their children can have become ready or skippable, so only they are asked about
-- (steps_readiness's p_candidates); NULL asks about every step of the tasks (a new task, a
-- retry, the recovery sweep). A task that has not started
-- and must wait for its concurrency key (concurrency_waiting, decided under the key's row
-- lock, lock_concurrency_keys) keeps its steps pending.
--
-- Its plans, measured in the bench's profile (docs/performance.md):
-- plan_cache_mode: PL/pgSQL re-planned this function's statements on every call, 560 us
--   against 30-39 us with the cached generic plan.
-- enable_seqscan: the readiness join (edges, parents) and the messages' join to their tasks
--   are looked up by key only, but a generic plan made while the tables are small hashes them
--   against scans of whole tables and keeps doing so as they grow: in the bench's profile
--   (bin/bench --only profile, 800 linear steps) 211 buffers and 0.74 ms per step with scans
--   allowed, 125 buffers and 0.49 ms without.
CREATE OR REPLACE FUNCTION tasker.enqueue_ready(p_task_uuids uuid[], p_reason text,
                                                p_changed uuid[] DEFAULT NULL)
RETURNS TABLE (task_uuid uuid, counts jsonb)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_steps uuid[];
    v_states text[];
    v_attempts integer[];
    v_moved uuid[];
    v_waiting uuid[] := '{}';
    v_skip uuid[];
    v_skip_attempts integer[];
    v_candidates uuid[];
    v_open uuid[];
BEGIN
    IF p_changed IS NOT NULL THEN
        v_candidates := p_changed || tasker.step_children(p_changed);
    END IF;
    IF tasker.lock_concurrency_keys(p_task_uuids) THEN
        v_waiting := tasker.concurrency_waiting(p_task_uuids);
    END IF;
    -- The tasks whose steps may move: open, and not waiting for their key. Read by key, with
    -- the state tested in the FILTER, not in a WHERE clause: a WHERE on the open states lets
    -- the planner read tasks_active_idx (partial, on the open tasks) instead of the primary
    -- key, and with statistics taken while few tasks were open (1,000,000 finished steps,
    -- the bench's history section) it joined every open task to the readiness of every step:
    -- 7.5 ms and 16,000 buffers per call instead of 0.14 ms and 45, the throughput at 0.56 of
    -- an empty database's (docs/performance.md).
    SELECT array_agg(t.task_uuid) FILTER (WHERE t.state IN ({{OPEN_TASK_STATES}})
                                            AND NOT (t.task_uuid = ANY (v_waiting)))
      INTO v_open
      FROM tasker.tasks t
     WHERE t.task_uuid = ANY (p_task_uuids);
    -- Skipping spreads one generation per round (a decision's unchosen branch, then the
    -- steps all of whose parents are skipped); without any skip, one round.
    LOOP
        EXIT WHEN v_open IS NULL;
        SELECT array_agg(r.step_uuid) FILTER (WHERE r.ready AND r.state = 'pending'),
               array_agg(r.state) FILTER (WHERE r.ready AND r.state = 'pending'),
               array_agg(r.attempts) FILTER (WHERE r.ready AND r.state = 'pending'),
               array_agg(r.step_uuid) FILTER (WHERE r.skip),
               array_agg(r.attempts) FILTER (WHERE r.skip)
          INTO v_steps, v_states, v_attempts, v_skip, v_skip_attempts
          FROM tasker.steps_readiness(v_open, v_candidates) r
         WHERE r.skip OR (r.ready AND r.state = 'pending');
        EXIT WHEN v_skip IS NULL;
        PERFORM tasker.move_steps(v_skip,
                                  array_fill('pending'::text, ARRAY[cardinality(v_skip)]),
                                  v_skip_attempts,
                                  array_fill('skipped'::text, ARRAY[cardinality(v_skip)]),
                                  array_fill('every parent was skipped'::text,
                                             ARRAY[cardinality(v_skip)]));
        -- the next generation: the children of what was just skipped
        v_candidates := v_candidates || tasker.step_children(v_skip);
    END LOOP;
    IF v_steps IS NOT NULL THEN
        SELECT array_agg(m.step_uuid) INTO v_moved
          FROM tasker.move_steps(v_steps, v_states, v_attempts,
                                 array_fill('enqueued'::text, ARRAY[cardinality(v_steps)]),
                                 array_fill(p_reason, ARRAY[cardinality(v_steps)])) m;
        IF v_moved IS NOT NULL THEN
            PERFORM tasker.send_step_messages(v_moved, 0);
        END IF;
    END IF;
    RETURN QUERY
        SELECT c.task_uuid, jsonb_object_agg(c.state, c.n)
          FROM (SELECT s.task_uuid, s.state, count(*) AS n FROM tasker.workflow_steps s
                 WHERE s.task_uuid = ANY (p_task_uuids) GROUP BY s.task_uuid, s.state) c
         GROUP BY c.task_uuid;
END;
$$;
