-- Cheaper steps on the hot path (docs/performance.md, "HOT updates and a one-update claim"):
--
-- 1. Every step is updated three times on its way (enqueued, in_progress, complete). Partial
--    indexes whose predicate names `state` made each of those updates a non-HOT update: a new
--    entry in every index of the table, and index scans that wade through dead versions. They
--    go, and the table leaves room on each page for the updated version (fillfactor), so state
--    changes are HOT updates. Active steps are found through the active tasks instead
--    (tasks_active_idx, then the steps by (task_uuid, name)).
DROP INDEX IF EXISTS tasker.workflow_steps_active_idx;
DROP INDEX IF EXISTS tasker.workflow_steps_retry_idx;
ALTER TABLE tasker.workflow_steps SET (fillfactor = 80);

-- 2. A step's parents and ancestors by name, in template order, written once when the task is
--    created (the DAG of a task never changes). The claim reads the ancestors' results with one
--    lookup on (task_uuid, name) instead of walking the edges level by level.
ALTER TABLE tasker.workflow_steps
    ADD COLUMN depends_on text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ancestors text[] NOT NULL DEFAULT '{}';

UPDATE tasker.workflow_steps s
   SET depends_on = x.names
  FROM (SELECT e.to_step, array_agg(p.name ORDER BY p.position) AS names
          FROM tasker.workflow_step_edges e
          JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
         GROUP BY e.to_step) x
 WHERE s.step_uuid = x.to_step;

WITH RECURSIVE anc(step_uuid, ancestor) AS (
    SELECT to_step, from_step FROM tasker.workflow_step_edges
    UNION
    SELECT a.step_uuid, e.from_step
      FROM anc a JOIN tasker.workflow_step_edges e ON e.to_step = a.ancestor)
UPDATE tasker.workflow_steps s
   SET ancestors = x.names
  FROM (SELECT a.step_uuid, array_agg(p.name ORDER BY p.position) AS names
          FROM anc a JOIN tasker.workflow_steps p ON p.step_uuid = a.ancestor
         GROUP BY a.step_uuid) x
 WHERE s.step_uuid = x.step_uuid;

-- 3. The claim without touching the message again: the read already made the message
--    invisible for the step's own timeout (it travels in the message), so the claim no longer
--    sets the visibility timeout in a second update of the queue row.
-- The visibility timeout a step message asks for (its step's timeout_seconds), within sane
-- bounds, or the reader's default for a message without one.
CREATE FUNCTION tasker.message_timeout(p_message jsonb, p_default integer) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_message->'timeout_seconds') = 'number'
                THEN LEAST(GREATEST((p_message->>'timeout_seconds')::numeric, 1), 604800)::double precision
                ELSE p_default END
$$;

CREATE FUNCTION tasker.queue_read_for_claim(p_queue text, p_vt integer, p_qty integer)
RETURNS TABLE (msg_id bigint, read_ct integer, message jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH next AS (SELECT q.msg_id FROM pgmq.%1$I q WHERE q.vt <= clock_timestamp()
                        ORDER BY q.msg_id LIMIT $1 FOR UPDATE SKIP LOCKED)
         UPDATE pgmq.%1$I m SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                vt = clock_timestamp() + make_interval(secs => tasker.message_timeout(m.message, $2))
           FROM next WHERE m.msg_id = next.msg_id
         RETURNING m.msg_id, m.read_ct, m.message', 'q_' || p_queue)
    USING p_qty, p_vt;
END;
$$;

-- Claims the step for this attempt and returns what the handler needs (see claim_step);
-- leaves the message's visibility timeout alone.
CREATE FUNCTION tasker.claim_step_only(p_step_uuid uuid, p_attempt integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s tasker.workflow_steps%ROWTYPE;
    t tasker.tasks%ROWTYPE;
    v_from text;
BEGIN
    SELECT * INTO s FROM tasker.workflow_steps WHERE step_uuid = p_step_uuid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'unknown');
    END IF;
    SELECT * INTO t FROM tasker.tasks WHERE task_uuid = s.task_uuid;
    IF t.state NOT IN ('pending', 'in_progress') THEN
        RETURN jsonb_build_object('status', 'stale', 'state', s.state, 'task_state', t.state);
    END IF;

    IF s.state IN ('enqueued', 'waiting_for_retry') AND s.attempts + 1 = p_attempt THEN
        v_from := s.state;
    ELSIF s.state = 'in_progress' AND s.attempts >= p_attempt THEN
        -- Redelivered after its visibility timeout: the previous claimant is presumed gone.
        IF s.attempts >= s.max_attempts THEN
            RETURN jsonb_build_object('status', 'exhausted', 'attempt', s.attempts,
                                      'max_attempts', s.max_attempts);
        END IF;
        v_from := 'in_progress';
    ELSE
        RETURN jsonb_build_object('status', 'stale', 'state', s.state, 'attempts', s.attempts);
    END IF;

    UPDATE tasker.workflow_steps
       SET state = 'in_progress', attempts = attempts + 1, started_at = clock_timestamp(),
           backoff_until = NULL, updated_at = clock_timestamp()
     WHERE step_uuid = p_step_uuid;
    INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason)
    VALUES (p_step_uuid, s.task_uuid, v_from, 'in_progress', s.attempts + 1,
            CASE WHEN v_from = 'in_progress' THEN 'redelivered' ELSE 'claimed' END);

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
            'timeout_seconds', s.timeout_seconds, 'depends_on', to_jsonb(s.depends_on)),
        'ancestors', CASE WHEN cardinality(s.ancestors) = 0 THEN '{}'::jsonb ELSE
            COALESCE((SELECT jsonb_object_agg(a.name, a.results) FROM tasker.workflow_steps a
                       WHERE a.task_uuid = s.task_uuid AND a.name = ANY (s.ancestors)),
                     '{}'::jsonb) END);
END;
$$;

-- The claim of a message read by other means (pgmq.read): claim, then make the message
-- invisible for the step's timeout.
CREATE OR REPLACE FUNCTION tasker.claim_step(p_queue text, p_msg_id bigint, p_step_uuid uuid, p_attempt integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_claim jsonb;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    v_claim := tasker.claim_step_only(p_step_uuid, p_attempt);
    IF v_claim->>'status' = 'claimed' THEN
        PERFORM tasker.queue_set_vt(p_queue, p_msg_id, (v_claim#>>'{step,timeout_seconds}')::integer);
    END IF;
    RETURN v_claim;
END;
$$;

-- task_status takes each step's parents from the stored list too.
CREATE OR REPLACE FUNCTION tasker.task_status(p_task_uuid uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH steps AS (
        SELECT s.*, r.ready, r.parents_total, r.parents_done
          FROM tasker.workflow_steps s
          JOIN tasker.step_readiness(p_task_uuid) r USING (step_uuid)
         WHERE s.task_uuid = p_task_uuid
    )
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'namespace', t.namespace, 'name', t.name,
        'version', t.version, 'state', t.state, 'context', t.context,
        'initiator', t.initiator, 'source_system', t.source_system, 'reason', t.reason,
        'tags', to_jsonb(t.tags), 'priority', t.priority, 'idempotency_key', t.idempotency_key,
        'created_at', t.created_at, 'updated_at', t.updated_at, 'completed_at', t.completed_at,
        'duration_ms', round(extract(epoch FROM (COALESCE(t.completed_at, clock_timestamp())
                                                  - t.created_at)) * 1000, 3),
        'step_count', (SELECT count(*) FROM steps),
        'step_counts', COALESCE((SELECT jsonb_object_agg(state, n)
                                   FROM (SELECT state, count(*) AS n FROM steps GROUP BY state) c),
                                '{}'::jsonb),
        'completion_percentage', COALESCE((SELECT round(100.0 * count(*) FILTER (
                                               WHERE state IN ('complete', 'resolved_manually'))
                                               / NULLIF(count(*), 0), 1) FROM steps), 0),
        'steps', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                    'step_uuid', s.step_uuid, 'name', s.name, 'handler', s.handler,
                    'state', s.state, 'attempts', s.attempts, 'max_attempts', s.max_attempts,
                    'retryable', s.retryable, 'ready', s.ready, 'depends_on', to_jsonb(s.depends_on),
                    'next_retry_at', CASE WHEN s.state = 'waiting_for_retry' THEN s.backoff_until END,
                    'timeout_seconds', s.timeout_seconds, 'config', s.config,
                    'results', s.results, 'last_error', s.last_error,
                    'enqueued_at', s.enqueued_at, 'started_at', s.started_at,
                    'completed_at', s.completed_at) ORDER BY s.position) FROM steps s), '[]'::jsonb))
    FROM tasker.tasks t
    WHERE t.task_uuid = p_task_uuid
$$;
