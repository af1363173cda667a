-- SQL functions shared by the Rust orchestrator and the Ruby workers.
-- pgmq's own SQL is installed before these migrations run (TaskerCore.migrate!).

-- Queue names are identifiers we create; anything else is refused before it reaches pgmq.
CREATE FUNCTION tasker.valid_queue_name(p_queue text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_queue ~ '^[a-z][a-z0-9_]{0,46}$'
$$;

-- Statement-level wake-up for listeners: one NOTIFY per inserting statement, delivered at
-- commit, no row updated (pgmq's own notify trigger updates a throttle row per insert).
CREATE FUNCTION tasker.notify_queue_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tasker_' || TG_TABLE_NAME, '');
    RETURN NULL;
END;
$$;

-- Creates the pgmq queue (if missing) and its insert notification. Idempotent.
CREATE FUNCTION tasker.ensure_queue(p_queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %: expected [a-z][a-z0-9_]{0,46}', quote_literal(p_queue);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'pgmq' AND c.relname = 'q_' || p_queue
                  AND g.tgname = 'tasker_notify_insert') THEN
        RETURN;
    END IF;
    -- Registrations in several processes at once: one creates, the others find it done.
    PERFORM pg_advisory_xact_lock(hashtext('tasker.ensure_queue'));
    IF NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = p_queue) THEN
        PERFORM pgmq.create(p_queue);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS tasker_notify_insert ON pgmq.%I', 'q_' || p_queue);
    EXECUTE format('CREATE TRIGGER tasker_notify_insert AFTER INSERT ON pgmq.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tasker.notify_queue_insert()',
                   'q_' || p_queue);
END;
$$;

SELECT tasker.ensure_queue('tasker_step_results');
SELECT tasker.ensure_queue('tasker_task_requests');

-- THE readiness rule, used by the enqueuer and by the status views.
-- A step is ready when it is pending (or waiting_for_retry with its backoff passed), every
-- parent is complete or resolved_manually, and it has attempts left.
CREATE FUNCTION tasker.step_readiness(p_task_uuid uuid)
RETURNS TABLE (step_uuid uuid, name text, state text, attempts integer, max_attempts integer,
               parents_total integer, parents_done integer, ready boolean)
LANGUAGE sql STABLE AS $$
    SELECT s.step_uuid, s.name, s.state, s.attempts, s.max_attempts,
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
    WHERE s.task_uuid = p_task_uuid
    GROUP BY s.step_uuid
$$;

-- The step message a worker reads from <namespace>_queue.
CREATE FUNCTION tasker.step_message(p_step_uuid uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'step_uuid', s.step_uuid, 'namespace', t.namespace,
        'task_name', t.name, 'task_version', t.version, 'step_name', s.name,
        'handler', s.handler, 'attempt', s.attempts + 1, 'timeout_seconds', s.timeout_seconds,
        'enqueued_at', clock_timestamp())
    FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
    WHERE s.step_uuid = p_step_uuid
$$;

-- Moves every ready `pending` step of a task to `enqueued` and sends its message, in the
-- caller's transaction (the caller holds the task's row lock). Steps in waiting_for_retry
-- already have their delayed message in the queue and are not sent again here.
-- Returns the number of steps enqueued.
CREATE FUNCTION tasker.enqueue_ready_steps(p_task_uuid uuid, p_reason text DEFAULT 'ready')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_queue text;
    v_steps uuid[];
    v_msgs  jsonb[];
BEGIN
    SELECT namespace || '_queue' INTO v_queue FROM tasker.tasks
     WHERE task_uuid = p_task_uuid AND state IN ('pending', 'in_progress');
    IF v_queue IS NULL THEN
        RETURN 0;
    END IF;

    SELECT array_agg(r.step_uuid) INTO v_steps
      FROM tasker.step_readiness(p_task_uuid) r
     WHERE r.ready AND r.state = 'pending';
    IF v_steps IS NULL THEN
        RETURN 0;
    END IF;

    SELECT array_agg(tasker.step_message(u)) INTO v_msgs FROM unnest(v_steps) AS u;

    UPDATE tasker.workflow_steps
       SET state = 'enqueued', enqueued_at = clock_timestamp(), updated_at = clock_timestamp()
     WHERE step_uuid = ANY (v_steps) AND state = 'pending';

    INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason)
    SELECT u, p_task_uuid, 'pending', 'enqueued', 0, p_reason FROM unnest(v_steps) AS u;

    PERFORM pgmq.send_batch(v_queue, v_msgs);
    RETURN cardinality(v_steps);
END;
$$;

-- Called by a worker right after reading a step message. Claims the step for this attempt
-- (enqueued/waiting_for_retry -> in_progress), sets the message's visibility timeout to the
-- step's timeout, and returns everything the handler needs in one round trip:
--   {"status":"claimed", "attempt", "task":{...,"context"}, "step":{...}, "ancestors":{name=>results}}
-- or {"status":"stale"} (the message is superseded: delete it), {"status":"exhausted"} (the
-- message was redelivered past max_attempts: report a failure), {"status":"unknown"}.
CREATE FUNCTION tasker.claim_step(p_queue text, p_msg_id bigint, p_step_uuid uuid, p_attempt integer)
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
    PERFORM pgmq.set_vt(p_queue, p_msg_id, s.timeout_seconds);

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

-- A worker's last word on a step message, atomically: the result goes to the results queue
-- and the step message is deleted, in one transaction. Returns the result's message id.
CREATE FUNCTION tasker.submit_result(p_queue text, p_msg_id bigint, p_result jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    SELECT pgmq.send('tasker_step_results', p_result) INTO v_id;
    PERFORM pgmq.delete(p_queue, p_msg_id);
    RETURN v_id;
END;
$$;

-- Everything task_status shows, in one round trip: the task, counts per step state,
-- completion percentage, and per step its state, attempts, readiness, results and error.
CREATE FUNCTION tasker.task_status(p_task_uuid uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH steps AS (
        SELECT s.*, r.ready, r.parents_total, r.parents_done,
               COALESCE((SELECT jsonb_agg(p.name ORDER BY p.position)
                           FROM tasker.workflow_step_edges e
                           JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
                          WHERE e.to_step = s.step_uuid), '[]'::jsonb) AS depends_on
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
                    'retryable', s.retryable, 'ready', s.ready, 'depends_on', s.depends_on,
                    'next_retry_at', CASE WHEN s.state = 'waiting_for_retry' THEN s.backoff_until END,
                    'timeout_seconds', s.timeout_seconds, 'config', s.config,
                    'results', s.results, 'last_error', s.last_error,
                    'enqueued_at', s.enqueued_at, 'started_at', s.started_at,
                    'completed_at', s.completed_at) ORDER BY s.position) FROM steps s), '[]'::jsonb))
    FROM tasker.tasks t
    WHERE t.task_uuid = p_task_uuid
$$;
