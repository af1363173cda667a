-- pgmq's read, send_batch and set_vt each go through two or three layers of functions that
-- build their SQL with format() and EXECUTE it; on the hot path (per step) that is a third
-- of the claim's and the enqueue's time (docs/bench/profile.md). These do the same to pgmq's
-- queue tables (pgmq.q_<queue>: msg_id, read_ct, enqueued_at, last_read_at, vt, message,
-- headers) in one dynamic statement each, with the same locking (FOR UPDATE SKIP LOCKED).
-- The pgmq version is pinned by the crate that installs it.

CREATE FUNCTION tasker.queue_read(p_queue text, p_vt integer, p_qty integer)
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
                vt = clock_timestamp() + make_interval(secs => $2)
           FROM next WHERE m.msg_id = next.msg_id
         RETURNING m.msg_id, m.read_ct, m.message', 'q_' || p_queue)
    USING p_qty, p_vt;
END;
$$;

CREATE FUNCTION tasker.queue_send_batch(p_queue text, p_msgs jsonb[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    EXECUTE format('INSERT INTO pgmq.%I (vt, message) SELECT clock_timestamp(), unnest($1)',
                   'q_' || p_queue)
    USING p_msgs;
END;
$$;

CREATE FUNCTION tasker.queue_set_vt(p_queue text, p_msg_id bigint, p_seconds integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    EXECUTE format('UPDATE pgmq.%I SET vt = clock_timestamp() + make_interval(secs => $2)
                     WHERE msg_id = $1', 'q_' || p_queue)
    USING p_msg_id, p_seconds;
END;
$$;

CREATE OR REPLACE FUNCTION tasker.claim_step(p_queue text, p_msg_id bigint, p_step_uuid uuid, p_attempt integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s tasker.workflow_steps%ROWTYPE;
    t tasker.tasks%ROWTYPE;
    v_from text;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
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
    PERFORM tasker.queue_set_vt(p_queue, p_msg_id, s.timeout_seconds);

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
            'timeout_seconds', s.timeout_seconds,
            'depends_on', COALESCE((SELECT jsonb_agg(p.name ORDER BY p.position)
                                      FROM tasker.workflow_step_edges e
                                      JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
                                     WHERE e.to_step = p_step_uuid), '[]'::jsonb)),
        'ancestors', COALESCE((
            WITH RECURSIVE anc(step_uuid) AS (
                SELECT e.from_step FROM tasker.workflow_step_edges e WHERE e.to_step = p_step_uuid
                UNION
                SELECT e.from_step FROM tasker.workflow_step_edges e
                  JOIN anc ON e.to_step = anc.step_uuid)
            SELECT jsonb_object_agg(a.name, a.results)
              FROM anc JOIN tasker.workflow_steps a USING (step_uuid)), '{}'::jsonb));
END;
$$;

CREATE OR REPLACE FUNCTION tasker.claim_next(p_queue text, p_vt integer, p_qty integer, p_max_reads integer)
RETURNS TABLE (msg_id bigint, read_ct integer, message text, claim jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    v_ok boolean;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR m IN SELECT * FROM tasker.queue_read(p_queue, p_vt, p_qty) LOOP
        msg_id := m.msg_id;
        read_ct := m.read_ct;
        message := m.message::text;
        v_ok := COALESCE(jsonb_typeof(m.message) = 'object'
                         AND m.message->>'step_uuid' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                         AND jsonb_typeof(m.message->'attempt') = 'number'
                         AND m.message->>'attempt' ~ '^[0-9]{1,9}$', false);
        IF NOT v_ok THEN
            claim := '{"status": "invalid"}'::jsonb;
        ELSIF m.read_ct > p_max_reads THEN
            claim := '{"status": "poison"}'::jsonb;
        ELSE
            claim := tasker.claim_step(p_queue, m.msg_id, (m.message->>'step_uuid')::uuid,
                                       (m.message->>'attempt')::integer);
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION tasker.enqueue_ready_steps(p_task_uuid uuid, p_reason text DEFAULT 'ready')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_queue text;
    v_steps uuid[];
    v_msgs  jsonb[];
BEGIN
    SELECT min(t.namespace) || '_queue', array_agg(s.step_uuid),
           array_agg(tasker.build_step_message(s, t))
      INTO v_queue, v_steps, v_msgs
      FROM tasker.step_readiness(p_task_uuid) r
      JOIN tasker.workflow_steps s ON s.step_uuid = r.step_uuid
      JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
     WHERE r.ready AND r.state = 'pending' AND t.state IN ('pending', 'in_progress');
    IF v_steps IS NULL THEN
        RETURN 0;
    END IF;

    WITH moved AS (
        UPDATE tasker.workflow_steps
           SET state = 'enqueued', enqueued_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE step_uuid = ANY (v_steps) AND state = 'pending'
     RETURNING step_uuid)
    INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason)
    SELECT step_uuid, p_task_uuid, 'pending', 'enqueued', 0, p_reason FROM moved;

    PERFORM tasker.queue_send_batch(v_queue, v_msgs);
    RETURN cardinality(v_steps);
END;
$$;
