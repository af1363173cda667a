-- A worker's claim of a step for the attempt its message carries: the step moves to
-- in_progress (move_steps) and the worker gets everything its handler needs in one answer:
-- the task, the step (with its element and index if it is a fan_out's instance), the
-- results of the step's ancestors (a per-element template's: its instances' results in
-- element order), which ancestors were skipped, and which ancestors' results were left out
-- (`deferred`): one larger than {{CLAIM_INLINE_RESULT_BYTES}} bytes as stored is read by the
-- worker only if its handler asks (ancestor_result), since a fan_out's plain Array result
-- would otherwise travel in every instance's claim.
--   claimed     the step is the worker's, for that attempt
--   stale       the task is finished, or the step moved on (a duplicate or late message)
--   exhausted   redelivered after its last attempt's worker vanished: the worker fails it
--   unknown     no such step
-- A message redelivered after its visibility timeout (its worker presumed dead) is claimed
-- again as the next attempt. Locks: the message (by the read), then the step.
CREATE OR REPLACE FUNCTION tasker.claim_step(p_step_uuid uuid, p_attempt integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s tasker.workflow_steps%ROWTYPE;
    t tasker.tasks%ROWTYPE;
    v_ancestors jsonb := '{}';
    v_skipped jsonb := '[]';
    v_deferred jsonb := '[]';
BEGIN
    SELECT * INTO s FROM tasker.workflow_steps WHERE step_uuid = p_step_uuid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'unknown');
    END IF;
    SELECT * INTO t FROM tasker.tasks WHERE task_uuid = s.task_uuid;
    IF t.state NOT IN ({{OPEN_TASK_STATES}}) THEN
        RETURN jsonb_build_object('status', 'stale', 'state', s.state, 'task_state', t.state);
    END IF;
    IF s.state = 'in_progress' AND s.attempts >= p_attempt AND s.attempts >= s.max_attempts THEN
        RETURN jsonb_build_object('status', 'exhausted', 'attempt', s.attempts,
                                  'max_attempts', s.max_attempts);
    END IF;
    IF NOT ((s.state IN ('enqueued', 'waiting_for_retry') AND s.attempts + 1 = p_attempt)
            OR (s.state = 'in_progress' AND s.attempts >= p_attempt)) THEN
        RETURN jsonb_build_object('status', 'stale', 'state', s.state, 'attempts', s.attempts);
    END IF;

    PERFORM tasker.move_steps(ARRAY[s.step_uuid], ARRAY[s.state], ARRAY[s.attempts],
                              ARRAY['in_progress'],
                              ARRAY[CASE WHEN s.state = 'in_progress' THEN 'redelivered' ELSE 'claimed' END]);

    -- The ancestors, each looked up once by name: their results (a per-element template's:
    -- its instances' results in element order, none if its fan_out returned no element;
    -- left out past the size limit), which were skipped, which were left out.
    IF cardinality(s.ancestors) > 0 THEN
        SELECT COALESCE(jsonb_object_agg(n.name, CASE
                            WHEN a.step_uuid IS NOT NULL THEN a.results
                            ELSE COALESCE((SELECT jsonb_agg(i.results ORDER BY i.element_index)
                                             FROM tasker.workflow_steps i
                                            WHERE i.task_uuid = s.task_uuid
                                              AND i.element_of = n.name), '[]'::jsonb) END)
                   FILTER (WHERE COALESCE(pg_column_size(a.results), 0) <= {{CLAIM_INLINE_RESULT_BYTES}}),
                        '{}'::jsonb),
               COALESCE(jsonb_agg(n.name ORDER BY n.name) FILTER (WHERE a.state = 'skipped'), '[]'::jsonb),
               COALESCE(jsonb_agg(n.name ORDER BY n.name)
                   FILTER (WHERE pg_column_size(a.results) > {{CLAIM_INLINE_RESULT_BYTES}}), '[]'::jsonb)
          INTO v_ancestors, v_skipped, v_deferred
          FROM unnest(s.ancestors) AS n(name)
          LEFT JOIN tasker.workflow_steps a ON a.task_uuid = s.task_uuid AND a.name = n.name;
    END IF;

    RETURN jsonb_build_object(
        'status', 'claimed',
        'attempt', s.attempts + 1,
        'task', jsonb_build_object(
            'uuid', t.task_uuid, 'namespace', t.namespace, 'name', t.name,
            'version', t.version, 'context', t.context, 'initiator', t.initiator,
            'source_system', t.source_system, 'reason', t.reason, 'tags', to_jsonb(t.tags)),
        'step', jsonb_build_object(
            'uuid', s.step_uuid, 'name', s.name, 'handler', s.handler, 'config', s.config,
            'attempt', s.attempts + 1, 'max_attempts', s.max_attempts,
            'timeout_seconds', s.timeout_seconds, 'depends_on', to_jsonb(s.depends_on),
            'input', s.input, 'index', s.element_index),
        'ancestors', v_ancestors,
        'skipped', v_skipped,
        'deferred', v_deferred);
END;
$$;
