-- The schema `tasker` as TaskerCore.migrate! leaves it on an empty database: the tables
-- and indexes of migrations/ and the functions of sql/. Written by bin/schema; bin/test
-- fails when it is stale. Do not edit: change migrations/ or sql/ and run bin/schema.

--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: tasker; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA tasker;


--
-- Name: ancestor_result(uuid, text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.ancestor_result(p_task_uuid uuid, p_name text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT s.results FROM tasker.workflow_steps s WHERE s.task_uuid = p_task_uuid AND s.name = p_name
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: tasks; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.tasks (
    task_uuid uuid NOT NULL,
    named_task_id bigint NOT NULL,
    namespace text NOT NULL,
    name text NOT NULL,
    version text NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    context jsonb DEFAULT '{}'::jsonb NOT NULL,
    initiator text,
    source_system text,
    reason text,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    idempotency_key text,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    updated_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    completed_at timestamp with time zone,
    run_at timestamp with time zone,
    concurrency_key text,
    concurrency_limit integer,
    CONSTRAINT tasks_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'in_progress'::text, 'complete'::text, 'error'::text, 'cancelled'::text, 'resolved_manually'::text])))
);


--
-- Name: workflow_steps; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.workflow_steps (
    step_uuid uuid NOT NULL,
    task_uuid uuid NOT NULL,
    name text NOT NULL,
    "position" integer NOT NULL,
    handler text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    retryable boolean DEFAULT true NOT NULL,
    backoff_base_seconds double precision DEFAULT 1 NOT NULL,
    max_backoff_seconds double precision DEFAULT 300 NOT NULL,
    backoff_until timestamp with time zone,
    timeout_seconds integer DEFAULT 30 NOT NULL,
    results jsonb,
    last_error jsonb,
    enqueued_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    updated_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    depends_on text[] DEFAULT '{}'::text[] NOT NULL,
    ancestors text[] DEFAULT '{}'::text[] NOT NULL,
    step_type text DEFAULT 'task'::text NOT NULL,
    element_of text,
    element_index integer,
    input jsonb,
    CONSTRAINT workflow_steps_max_attempts_check CHECK ((max_attempts >= 1)),
    CONSTRAINT workflow_steps_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'enqueued'::text, 'in_progress'::text, 'complete'::text, 'waiting_for_retry'::text, 'error'::text, 'cancelled'::text, 'resolved_manually'::text, 'skipped'::text]))),
    CONSTRAINT workflow_steps_step_type_check CHECK ((step_type = ANY (ARRAY['task'::text, 'decision'::text, 'fan_out'::text]))),
    CONSTRAINT workflow_steps_timeout_seconds_check CHECK ((timeout_seconds >= 1))
)
WITH (fillfactor='80');


--
-- Name: build_step_message(tasker.workflow_steps, tasker.tasks); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.build_step_message(s tasker.workflow_steps, t tasker.tasks) RETURNS jsonb
    LANGUAGE sql
    AS $$
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'step_uuid', s.step_uuid, 'namespace', t.namespace,
        'task_name', t.name, 'task_version', t.version, 'step_name', s.name,
        'handler', s.handler, 'attempt', s.attempts + 1, 'timeout_seconds', s.timeout_seconds,
        'priority', t.priority, 'enqueued_at', clock_timestamp())
$$;


--
-- Name: claim_message(jsonb, integer, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.claim_message(p_message jsonb, p_read_ct integer, p_max_reads integer) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
BEGIN
    IF NOT COALESCE(jsonb_typeof(p_message) = 'object'
                    AND p_message->>'step_uuid' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    AND jsonb_typeof(p_message->'attempt') = 'number'
                    AND p_message->>'attempt' ~ '^[0-9]{1,9}$', false) THEN
        RETURN '{"status": "invalid"}'::jsonb;
    END IF;
    IF p_read_ct > p_max_reads THEN
        RETURN '{"status": "poison"}'::jsonb;
    END IF;
    RETURN tasker.claim_step((p_message->>'step_uuid')::uuid, (p_message->>'attempt')::integer);
END;
$_$;


--
-- Name: claim_step(uuid, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.claim_step(p_step_uuid uuid, p_attempt integer) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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
    IF t.state NOT IN ('pending', 'in_progress') THEN
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
                   FILTER (WHERE COALESCE(pg_column_size(a.results), 0) <= 8192),
                        '{}'::jsonb),
               COALESCE(jsonb_agg(n.name ORDER BY n.name) FILTER (WHERE a.state = 'skipped'), '[]'::jsonb),
               COALESCE(jsonb_agg(n.name ORDER BY n.name)
                   FILTER (WHERE pg_column_size(a.results) > 8192), '[]'::jsonb)
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


--
-- Name: concurrency_next(uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.concurrency_next(p_finished uuid[]) RETURNS SETOF uuid
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: concurrency_waiting(uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.concurrency_waiting(p_task_uuids uuid[]) RETURNS uuid[]
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: delete_results(bigint[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.delete_results(p_msg_ids bigint[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM pgmq.q_tasker_step_results WHERE msg_id = ANY (p_msg_ids);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


--
-- Name: enqueue_ready(uuid[], text, uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.enqueue_ready(p_task_uuids uuid[], p_reason text, p_changed uuid[] DEFAULT NULL::uuid[]) RETURNS TABLE(task_uuid uuid, counts jsonb)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
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
    SELECT array_agg(t.task_uuid) FILTER (WHERE t.state IN ('pending', 'in_progress')
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


--
-- Name: ensure_queue(text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.ensure_queue(p_queue text) RETURNS void
    LANGUAGE plpgsql
    AS $_$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %: expected ^[a-z][a-z0-9_]{0,46}$', quote_literal(p_queue);
    END IF;
    IF to_regprocedure(format('tasker.%I(bigint, jsonb)', 'queue_submit_' || p_queue)) IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
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
    PERFORM tasker.install_queue_functions(p_queue);
END;
$_$;


--
-- Name: expand_fan_outs(uuid[], jsonb[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.expand_fan_outs(p_steps uuid[], p_items jsonb[]) RETURNS uuid[]
    LANGUAGE sql
    AS $$
    WITH templates AS MATERIALIZED (
        SELECT t.step_uuid AS template, t.task_uuid, t.name, t.position, t.handler, t.config, t.max_attempts,
               t.retryable, t.backoff_base_seconds, t.max_backoff_seconds, t.timeout_seconds,
               t.depends_on, t.ancestors, f.name AS fan_out, x.items
          FROM unnest(p_steps, p_items) AS x(fan_out, items)
          JOIN tasker.workflow_steps f ON f.step_uuid = x.fan_out
          JOIN tasker.workflow_step_edges e ON e.from_step = x.fan_out
          JOIN tasker.workflow_steps t ON t.step_uuid = e.to_step
         WHERE t.state = 'pending' AND t.element_of IS NULL),
    -- Each instance carries its own element only, never the whole items Array: with `t.*`
    -- every one of N rows held all N elements and the statement grew with N squared
    -- (2.1 s at 10,000 elements against 0.3 s; bin/bench --only fanout).
    instances AS MATERIALIZED (
        SELECT gen_random_uuid() AS step_uuid, (el.n - 1)::integer AS idx, el.v AS input,
               t.template, t.task_uuid, t.name, t.position, t.handler, t.config, t.max_attempts,
               t.retryable, t.backoff_base_seconds, t.max_backoff_seconds, t.timeout_seconds,
               t.depends_on, t.ancestors, t.fan_out
          FROM templates t, jsonb_array_elements(t.items) WITH ORDINALITY AS el(v, n)),
    inserted AS (
        INSERT INTO tasker.workflow_steps
               (step_uuid, task_uuid, name, position, handler, config, max_attempts, retryable,
                backoff_base_seconds, max_backoff_seconds, timeout_seconds, depends_on,
                ancestors, element_of, element_index, input)
        SELECT i.step_uuid, i.task_uuid, i.name || '[' || i.idx || ']', i.position, i.handler,
               i.config, i.max_attempts, i.retryable, i.backoff_base_seconds,
               i.max_backoff_seconds, i.timeout_seconds, i.depends_on, i.ancestors, i.name,
               i.idx, i.input
          FROM instances i),
    edges_in AS (
        INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
        SELECT i.task_uuid, e.from_step, i.step_uuid
          FROM instances i JOIN tasker.workflow_step_edges e ON e.to_step = i.template),
    edges_out AS (
        INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
        SELECT i.task_uuid, i.step_uuid, e.to_step
          FROM instances i JOIN tasker.workflow_step_edges e ON e.from_step = i.template),
    audit AS (
        INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, reason)
        SELECT i.step_uuid, i.task_uuid, NULL, 'pending',
               'element ' || i.idx || ' of fan_out step ' || i.fan_out
          FROM instances i),
    gone_edges AS (
        DELETE FROM tasker.workflow_step_edges e USING templates t
         WHERE e.from_step = t.template OR e.to_step = t.template),
    gone AS (
        DELETE FROM tasker.workflow_steps s USING templates t WHERE s.step_uuid = t.template)
    SELECT COALESCE((SELECT array_agg(i.step_uuid) FROM instances i), '{}'::uuid[])
           || COALESCE((SELECT array_agg(e.to_step)
                          FROM templates t
                          JOIN tasker.workflow_step_edges e ON e.from_step = t.template),
                       '{}'::uuid[])
$$;


--
-- Name: hurry_retries(uuid); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.hurry_retries(p_task_uuid uuid) RETURNS integer
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_queue text;
    v_count integer;
BEGIN
    SELECT namespace || '_queue' INTO v_queue FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    IF v_queue IS NULL OR NOT tasker.valid_queue_name(v_queue) THEN
        RETURN 0;
    END IF;
    EXECUTE format('UPDATE pgmq.%1$I SET vt = clock_timestamp()
                     WHERE read_ct = 0 AND vt > clock_timestamp()
                       AND message->>''step_uuid'' IN (
                           SELECT step_uuid::text FROM tasker.workflow_steps
                            WHERE task_uuid = $1 AND state = ''waiting_for_retry'')',
                   'q_' || v_queue)
      USING p_task_uuid;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$_$;


--
-- Name: install_queue_functions(text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.install_queue_functions(p_queue text) RETURNS void
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_table text := format('pgmq.%I', 'q_' || p_queue);
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    EXECUTE format('DROP INDEX IF EXISTS pgmq.%I', 'q_' || p_queue || '_priority_idx');
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s '
                   '((COALESCE((message->>''priority'')::integer, 0)) DESC, msg_id) '
                   'WHERE COALESCE((message->>''priority'')::integer, 0) <> 0',
                   'q_' || p_queue || '_prio_idx', v_table);
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION tasker.%1$I(p_vt integer, p_qty integer, p_max_reads integer)
        RETURNS TABLE (msg_id bigint, read_ct integer, message text, claim text)
        LANGUAGE plpgsql
        SET plan_cache_mode = force_generic_plan
        SET enable_seqscan = off
        AS $body$
        BEGIN
            -- An empty queue answers before the read is started: starting the read's plan
            -- (three branches, their row locks, the update) costs about 40 us even when it
            -- finds nothing, and a worker reads every queue of its namespaces on each round
            -- (an empty queue's claim: 63-72 us of the backend's CPU before, 28-37 us after;
            -- one with messages within 8 us of before; pgbench, docs/performance.md).
            IF NOT EXISTS (SELECT 1 FROM %2$s e WHERE e.vt <= clock_timestamp()) THEN
                RETURN;
            END IF;
            IF tasker.queue_paused(%3$L) THEN
                RETURN;
            END IF;
            RETURN QUERY
            WITH next AS (
                -- (FOR UPDATE may not stand in a UNION's branch, only in a subquery of one)
                SELECT c.msg_id FROM (
                    SELECT * FROM (
                        SELECT q.msg_id FROM %2$s q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) > 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) above
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM %2$s q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) = 0
                         ORDER BY q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) zero
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM %2$s q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) < 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) below) c
                 LIMIT p_qty),
            m AS (
                UPDATE %2$s m SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                       vt = clock_timestamp() + make_interval(secs => tasker.message_timeout(m.message, p_vt))
                  FROM next WHERE m.msg_id = next.msg_id
                RETURNING m.msg_id, m.read_ct, m.message)
            SELECT m.msg_id, m.read_ct, m.message::text,
                   tasker.claim_message(m.message, m.read_ct, p_max_reads)::text
              FROM m ORDER BY COALESCE((m.message->>'priority')::integer, 0) DESC, m.msg_id;
        END;
        $body$ $f$, 'queue_claim_' || p_queue, v_table, p_queue);
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION tasker.%1$I(p_msg_id bigint, p_result jsonb) RETURNS bigint
        LANGUAGE plpgsql
        SET plan_cache_mode = force_generic_plan
        SET enable_seqscan = off
        AS $body$
        DECLARE
            v_id bigint;
        BEGIN
            INSERT INTO pgmq.q_tasker_step_results (vt, message) VALUES (clock_timestamp(), p_result)
            RETURNING msg_id INTO v_id;
            DELETE FROM %2$s WHERE msg_id = p_msg_id;
            RETURN v_id;
        END;
        $body$ $f$, 'queue_submit_' || p_queue, v_table);
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION tasker.%1$I(p_msgs jsonb[], p_delay double precision,
                                               p_starts timestamptz[]) RETURNS void
        LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO %2$s (vt, message)
            SELECT GREATEST(clock_timestamp() + make_interval(secs => p_delay), x.start), x.msg
              FROM unnest(p_msgs, p_starts) AS x(msg, start);
        END;
        $body$ $f$, 'queue_send_' || p_queue, v_table);
END;
$_$;


--
-- Name: lock_concurrency_keys(uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.lock_concurrency_keys(p_task_uuids uuid[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_keys text[];
BEGIN
    -- By key; the other tests in the FILTER, where the planner cannot take them for a reason to
    -- read a partial index (tasks_concurrency_key_idx, tasks_active_idx) whole instead
    -- (enqueue_ready says what that cost).
    SELECT array_agg(DISTINCT t.concurrency_key ORDER BY t.concurrency_key)
           FILTER (WHERE t.concurrency_key IS NOT NULL AND t.state = 'pending') INTO v_keys
      FROM tasker.tasks t
     WHERE t.task_uuid = ANY (p_task_uuids);
    IF v_keys IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO tasker.concurrency_keys (key) SELECT unnest(v_keys) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM tasker.concurrency_keys k WHERE k.key = ANY (v_keys) ORDER BY k.key FOR UPDATE;
    RETURN true;
END;
$$;


--
-- Name: lost_steps(double precision, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.lost_steps(p_grace_seconds double precision, p_limit integer) RETURNS TABLE(step_uuid uuid, task_uuid uuid, state text)
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    q record;
BEGIN
    FOR q IN
        SELECT t.namespace || '_queue' AS queue, array_agg(s.step_uuid) AS steps
          FROM tasker.tasks t
          JOIN tasker.workflow_steps s ON s.task_uuid = t.task_uuid
         WHERE t.state = 'in_progress'
           AND s.state IN ('enqueued', 'in_progress', 'waiting_for_retry')
           AND GREATEST(s.started_at, s.enqueued_at, s.backoff_until, s.updated_at)
               + make_interval(secs => s.timeout_seconds + p_grace_seconds) < clock_timestamp()
         GROUP BY t.namespace
    LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(q.queue);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = q.queue);
        RETURN QUERY EXECUTE format(
            'SELECT s.step_uuid, s.task_uuid, s.state FROM tasker.workflow_steps s
              WHERE s.step_uuid = ANY ($1)
                AND NOT EXISTS (SELECT 1 FROM pgmq.%I m
                                 WHERE m.message->>''step_uuid'' = s.step_uuid::text)
                AND NOT EXISTS (SELECT 1 FROM pgmq.q_tasker_step_results r
                                 WHERE r.message->>''step_uuid'' = s.step_uuid::text)
              ORDER BY s.updated_at LIMIT $2', 'q_' || q.queue)
        USING q.steps, p_limit;
    END LOOP;
END;
$_$;


--
-- Name: message_timeout(jsonb, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.message_timeout(p_message jsonb, p_default integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN jsonb_typeof(p_message->'timeout_seconds') = 'number'
                THEN LEAST(GREATEST((p_message->>'timeout_seconds')::numeric, 1), 604800)::double precision
                ELSE p_default END
$$;


--
-- Name: move_steps(uuid[], text[], integer[], text[], text[], jsonb[], jsonb[], double precision[], jsonb[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.move_steps(p_steps uuid[], p_from text[], p_attempts integer[], p_to text[], p_reasons text[], p_results jsonb[] DEFAULT NULL::jsonb[], p_errors jsonb[] DEFAULT NULL::jsonb[], p_delays double precision[] DEFAULT NULL::double precision[], p_metadata jsonb[] DEFAULT NULL::jsonb[]) RETURNS TABLE(step_uuid uuid, task_uuid uuid, from_state text, to_state text, attempts integer)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT x.f, x.t INTO v_bad
      FROM unnest(p_from, p_to) AS x(f, t)
     WHERE NOT EXISTS (SELECT 1 FROM tasker.step_state_moves m
                        WHERE m.from_state = x.f AND m.to_state = x.t)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a step cannot move from % to %', quote_nullable(v_bad.f), quote_nullable(v_bad.t)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN QUERY
    WITH x AS (
        SELECT * FROM unnest(p_steps, p_from, p_attempts, p_to, p_reasons, p_results, p_errors,
                             p_delays, p_metadata)
                   AS x(u, from_state, attempts, to_state, reason, results, error, delay, metadata)),
    moved AS (
        UPDATE tasker.workflow_steps s
           SET state = x.to_state,
               attempts = CASE x.to_state WHEN 'in_progress' THEN s.attempts + 1
                                          WHEN 'pending' THEN 0
                                          ELSE s.attempts END,
               results = CASE WHEN x.to_state IN ('complete', 'resolved_manually', 'skipped') THEN x.results
                              ELSE s.results END,
               last_error = CASE WHEN x.to_state IN ('waiting_for_retry', 'error') THEN x.error
                                 ELSE s.last_error END,
               backoff_until = CASE WHEN x.to_state = 'waiting_for_retry'
                                      THEN clock_timestamp() + make_interval(secs => x.delay)
                                    WHEN x.to_state IN ('enqueued', 'in_progress', 'pending',
                                                        'resolved_manually') THEN NULL
                                    ELSE s.backoff_until END,
               enqueued_at = CASE x.to_state WHEN 'enqueued' THEN clock_timestamp()
                                             WHEN 'pending' THEN NULL
                                             ELSE s.enqueued_at END,
               started_at = CASE x.to_state WHEN 'in_progress' THEN clock_timestamp()
                                            WHEN 'pending' THEN NULL
                                            ELSE s.started_at END,
               completed_at = CASE WHEN x.to_state IN ('complete', 'error', 'cancelled', 'resolved_manually', 'skipped') THEN clock_timestamp()
                                   WHEN x.to_state = 'pending' THEN NULL
                                   ELSE s.completed_at END,
               updated_at = clock_timestamp()
          FROM x
         -- `= ANY` makes the plan look the steps up by their primary key: joined to the unnest
         -- alone, the generic plan hashes the unnest against a sequential scan of the whole
         -- table (EXPLAIN of this statement with plan_cache_mode = force_generic_plan).
         WHERE s.step_uuid = ANY (p_steps)
           AND s.step_uuid = x.u AND s.state = x.from_state AND s.attempts = x.attempts
        RETURNING s.step_uuid, s.task_uuid, x.from_state, x.to_state, x.attempts AS before,
                  s.attempts AS after, x.reason, x.metadata),
    audit AS (
        INSERT INTO tasker.step_transitions
               (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
        SELECT moved.step_uuid, moved.task_uuid, moved.from_state, moved.to_state,
               CASE WHEN moved.to_state = 'pending' THEN moved.before ELSE moved.after END,
               moved.reason, COALESCE(moved.metadata, '{}'::jsonb)
          FROM moved)
    SELECT moved.step_uuid, moved.task_uuid, moved.from_state, moved.to_state, moved.after
      FROM moved;
END;
$$;


--
-- Name: next_visible_in(text[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.next_visible_in(p_queues text[]) RETURNS double precision
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_queue text;
    v_at timestamptz;
    v_min timestamptz;
BEGIN
    FOREACH v_queue IN ARRAY p_queues LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = v_queue);
        CONTINUE WHEN tasker.queue_paused(v_queue);
        EXECUTE format('SELECT min(vt) FROM pgmq.%I', 'q_' || v_queue) INTO v_at;
        IF v_at IS NOT NULL AND (v_min IS NULL OR v_at < v_min) THEN
            v_min := v_at;
        END IF;
    END LOOP;
    IF v_min IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN GREATEST(extract(epoch FROM v_min - clock_timestamp()), 0);
END;
$$;


--
-- Name: notify_queue_insert(); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.notify_queue_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tasker_' || TG_TABLE_NAME, '');
    RETURN NULL;
END;
$$;


--
-- Name: pause_namespace(text, text, text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.pause_namespace(p_namespace text, p_actor text, p_reason text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_new boolean;
BEGIN
    INSERT INTO tasker.paused_namespaces (namespace, paused_by, reason)
    VALUES (p_namespace, p_actor, p_reason)
    ON CONFLICT (namespace) DO NOTHING;
    v_new := FOUND;
    IF v_new THEN
        INSERT INTO tasker.namespace_controls (namespace, action, actor, reason)
        VALUES (p_namespace, 'pause', p_actor, p_reason);
    END IF;
    RETURN v_new;
END;
$$;


--
-- Name: purge_archived(uuid[], uuid[], boolean); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.purge_archived(p_task_uuids uuid[], p_step_uuids uuid[], p_delete boolean) RETURNS bigint
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_queue text;
    v_rows  bigint;
    v_total bigint := 0;
    v_tasks text[] := p_task_uuids::text[];
    v_steps text[] := p_step_uuids::text[];
BEGIN
    IF cardinality(v_tasks) = 0 THEN
        RETURN 0;
    END IF;
    FOR v_queue IN SELECT m.queue_name FROM pgmq.meta m ORDER BY m.queue_name LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        IF p_delete THEN
            EXECUTE format('DELETE FROM pgmq.%I
                             WHERE message->>''task_uuid'' = ANY ($1)
                                OR message->>''step_uuid'' = ANY ($2)', 'a_' || v_queue)
              USING v_tasks, v_steps;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
        ELSE
            EXECUTE format('SELECT count(*) FROM pgmq.%I
                             WHERE message->>''task_uuid'' = ANY ($1)
                                OR message->>''step_uuid'' = ANY ($2)', 'a_' || v_queue)
              INTO v_rows
              USING v_tasks, v_steps;
        END IF;
        v_total := v_total + v_rows;
    END LOOP;
    RETURN v_total;
END;
$_$;


--
-- Name: purge_counts(timestamp with time zone); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.purge_counts(p_cutoff timestamp with time zone) RETURNS TABLE(tasks bigint, workflow_steps bigint, workflow_step_edges bigint, task_transitions bigint, step_transitions bigint, archived_messages bigint, rejected_task_requests bigint)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_tasks uuid[];
    v_steps uuid[];
BEGIN
    SELECT coalesce(array_agg(u), '{}') INTO v_tasks FROM tasker.purgeable_tasks(p_cutoff, NULL) u;
    SELECT coalesce(array_agg(s.step_uuid), '{}') INTO v_steps
      FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);
    tasks := cardinality(v_tasks);
    workflow_steps := cardinality(v_steps);
    SELECT count(*) INTO workflow_step_edges
      FROM tasker.workflow_step_edges e WHERE e.from_step = ANY (v_steps);
    SELECT count(*) INTO task_transitions
      FROM tasker.task_transitions x WHERE x.task_uuid = ANY (v_tasks);
    SELECT count(*) INTO step_transitions
      FROM tasker.step_transitions x WHERE x.task_uuid = ANY (v_tasks);
    archived_messages := tasker.purge_archived(v_tasks, v_steps, false);
    SELECT count(*) INTO rejected_task_requests
      FROM tasker.rejected_task_requests r WHERE r.rejected_at < p_cutoff;
    RETURN NEXT;
END;
$$;


--
-- Name: purge_tasks(timestamp with time zone, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.purge_tasks(p_cutoff timestamp with time zone, p_limit integer) RETURNS TABLE(tasks bigint, workflow_steps bigint, workflow_step_edges bigint, task_transitions bigint, step_transitions bigint, archived_messages bigint, rejected_task_requests bigint)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_tasks uuid[];
    v_steps uuid[];
BEGIN
    SELECT coalesce(array_agg(t.task_uuid), '{}') INTO v_tasks
      FROM (SELECT t.task_uuid
              FROM tasker.tasks t
             WHERE t.task_uuid IN (SELECT tasker.purgeable_tasks(p_cutoff, p_limit))
               AND t.completed_at < p_cutoff
               AND t.state IN ('complete', 'error', 'cancelled', 'resolved_manually')
               FOR UPDATE SKIP LOCKED) t;
    SELECT coalesce(array_agg(s.step_uuid), '{}') INTO v_steps
      FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);

    archived_messages := tasker.purge_archived(v_tasks, v_steps, true);
    DELETE FROM tasker.step_transitions x WHERE x.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS step_transitions = ROW_COUNT;
    DELETE FROM tasker.task_transitions x WHERE x.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS task_transitions = ROW_COUNT;
    DELETE FROM tasker.workflow_step_edges e WHERE e.from_step = ANY (v_steps);
    GET DIAGNOSTICS workflow_step_edges = ROW_COUNT;
    DELETE FROM tasker.workflow_steps s WHERE s.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS workflow_steps = ROW_COUNT;
    DELETE FROM tasker.tasks t WHERE t.task_uuid = ANY (v_tasks);
    GET DIAGNOSTICS tasks = ROW_COUNT;
    DELETE FROM tasker.rejected_task_requests r
     WHERE r.task_uuid IN (SELECT o.task_uuid FROM tasker.rejected_task_requests o
                            WHERE o.rejected_at < p_cutoff
                            ORDER BY o.rejected_at LIMIT p_limit
                              FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS rejected_task_requests = ROW_COUNT;
    RETURN NEXT;
END;
$$;


--
-- Name: purgeable_tasks(timestamp with time zone, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.purgeable_tasks(p_cutoff timestamp with time zone, p_limit integer) RETURNS SETOF uuid
    LANGUAGE sql STABLE
    AS $$
    SELECT t.task_uuid
      FROM tasker.tasks t
     WHERE t.completed_at IS NOT NULL
       AND t.completed_at < p_cutoff
       AND t.state IN ('complete', 'error', 'cancelled', 'resolved_manually')
     ORDER BY t.completed_at
     LIMIT p_limit
$$;


--
-- Name: queue_claim_tasker_step_results(integer, integer, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_claim_tasker_step_results(p_vt integer, p_qty integer, p_max_reads integer) RETURNS TABLE(msg_id bigint, read_ct integer, message text, claim text)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
        BEGIN
            -- An empty queue answers before the read is started: starting the read's plan
            -- (three branches, their row locks, the update) costs about 40 us even when it
            -- finds nothing, and a worker reads every queue of its namespaces on each round
            -- (an empty queue's claim: 63-72 us of the backend's CPU before, 28-37 us after;
            -- one with messages within 8 us of before; pgbench, docs/performance.md).
            IF NOT EXISTS (SELECT 1 FROM pgmq.q_tasker_step_results e WHERE e.vt <= clock_timestamp()) THEN
                RETURN;
            END IF;
            IF tasker.queue_paused('tasker_step_results') THEN
                RETURN;
            END IF;
            RETURN QUERY
            WITH next AS (
                -- (FOR UPDATE may not stand in a UNION's branch, only in a subquery of one)
                SELECT c.msg_id FROM (
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_step_results q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) > 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) above
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_step_results q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) = 0
                         ORDER BY q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) zero
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_step_results q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) < 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) below) c
                 LIMIT p_qty),
            m AS (
                UPDATE pgmq.q_tasker_step_results m SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                       vt = clock_timestamp() + make_interval(secs => tasker.message_timeout(m.message, p_vt))
                  FROM next WHERE m.msg_id = next.msg_id
                RETURNING m.msg_id, m.read_ct, m.message)
            SELECT m.msg_id, m.read_ct, m.message::text,
                   tasker.claim_message(m.message, m.read_ct, p_max_reads)::text
              FROM m ORDER BY COALESCE((m.message->>'priority')::integer, 0) DESC, m.msg_id;
        END;
        $$;


--
-- Name: queue_claim_tasker_task_requests(integer, integer, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_claim_tasker_task_requests(p_vt integer, p_qty integer, p_max_reads integer) RETURNS TABLE(msg_id bigint, read_ct integer, message text, claim text)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
        BEGIN
            -- An empty queue answers before the read is started: starting the read's plan
            -- (three branches, their row locks, the update) costs about 40 us even when it
            -- finds nothing, and a worker reads every queue of its namespaces on each round
            -- (an empty queue's claim: 63-72 us of the backend's CPU before, 28-37 us after;
            -- one with messages within 8 us of before; pgbench, docs/performance.md).
            IF NOT EXISTS (SELECT 1 FROM pgmq.q_tasker_task_requests e WHERE e.vt <= clock_timestamp()) THEN
                RETURN;
            END IF;
            IF tasker.queue_paused('tasker_task_requests') THEN
                RETURN;
            END IF;
            RETURN QUERY
            WITH next AS (
                -- (FOR UPDATE may not stand in a UNION's branch, only in a subquery of one)
                SELECT c.msg_id FROM (
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_task_requests q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) > 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) above
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_task_requests q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) = 0
                         ORDER BY q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) zero
                    UNION ALL
                    SELECT * FROM (
                        SELECT q.msg_id FROM pgmq.q_tasker_task_requests q
                         WHERE q.vt <= clock_timestamp()
                           AND COALESCE((q.message->>'priority')::integer, 0) < 0
                         ORDER BY COALESCE((q.message->>'priority')::integer, 0) DESC, q.msg_id
                         LIMIT p_qty FOR UPDATE SKIP LOCKED) below) c
                 LIMIT p_qty),
            m AS (
                UPDATE pgmq.q_tasker_task_requests m SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                       vt = clock_timestamp() + make_interval(secs => tasker.message_timeout(m.message, p_vt))
                  FROM next WHERE m.msg_id = next.msg_id
                RETURNING m.msg_id, m.read_ct, m.message)
            SELECT m.msg_id, m.read_ct, m.message::text,
                   tasker.claim_message(m.message, m.read_ct, p_max_reads)::text
              FROM m ORDER BY COALESCE((m.message->>'priority')::integer, 0) DESC, m.msg_id;
        END;
        $$;


--
-- Name: queue_paused(text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_paused(p_queue text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM tasker.paused_namespaces p WHERE p.namespace || '_queue' = p_queue);
END;
$$;


--
-- Name: queue_send_tasker_step_results(jsonb[], double precision, timestamp with time zone[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_send_tasker_step_results(p_msgs jsonb[], p_delay double precision, p_starts timestamp with time zone[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
        BEGIN
            INSERT INTO pgmq.q_tasker_step_results (vt, message)
            SELECT GREATEST(clock_timestamp() + make_interval(secs => p_delay), x.start), x.msg
              FROM unnest(p_msgs, p_starts) AS x(msg, start);
        END;
        $$;


--
-- Name: queue_send_tasker_task_requests(jsonb[], double precision, timestamp with time zone[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_send_tasker_task_requests(p_msgs jsonb[], p_delay double precision, p_starts timestamp with time zone[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
        BEGIN
            INSERT INTO pgmq.q_tasker_task_requests (vt, message)
            SELECT GREATEST(clock_timestamp() + make_interval(secs => p_delay), x.start), x.msg
              FROM unnest(p_msgs, p_starts) AS x(msg, start);
        END;
        $$;


--
-- Name: queue_stats(); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_stats() RETURNS TABLE(queue_name text, depth bigint, visible bigint, delayed bigint, in_flight bigint, max_read_ct integer, oldest_age_seconds numeric, archived bigint)
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_queue text;
BEGIN
    FOR v_queue IN SELECT m.queue_name FROM pgmq.meta m ORDER BY m.queue_name LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        RETURN QUERY EXECUTE format(
            'SELECT $1, count(*), count(*) FILTER (WHERE vt <= clock_timestamp()),
                    count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct = 0),
                    count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct > 0),
                    max(read_ct),
                    round(extract(epoch FROM clock_timestamp() - min(enqueued_at))::numeric, 1),
                    (SELECT count(*) FROM pgmq.%I)
               FROM pgmq.%I', 'a_' || v_queue, 'q_' || v_queue)
        USING v_queue;
    END LOOP;
END;
$_$;


--
-- Name: queue_submit_tasker_step_results(bigint, jsonb); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_submit_tasker_step_results(p_msg_id bigint, p_result jsonb) RETURNS bigint
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
        DECLARE
            v_id bigint;
        BEGIN
            INSERT INTO pgmq.q_tasker_step_results (vt, message) VALUES (clock_timestamp(), p_result)
            RETURNING msg_id INTO v_id;
            DELETE FROM pgmq.q_tasker_step_results WHERE msg_id = p_msg_id;
            RETURN v_id;
        END;
        $$;


--
-- Name: queue_submit_tasker_task_requests(bigint, jsonb); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.queue_submit_tasker_task_requests(p_msg_id bigint, p_result jsonb) RETURNS bigint
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
        DECLARE
            v_id bigint;
        BEGIN
            INSERT INTO pgmq.q_tasker_step_results (vt, message) VALUES (clock_timestamp(), p_result)
            RETURNING msg_id INTO v_id;
            DELETE FROM pgmq.q_tasker_task_requests WHERE msg_id = p_msg_id;
            RETURN v_id;
        END;
        $$;


--
-- Name: read_results(double precision, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.read_results(p_vt double precision, p_qty integer) RETURNS TABLE(msg_id bigint, read_ct integer, body text)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $$
BEGIN
    RETURN QUERY
    WITH next AS (
        SELECT q.msg_id FROM pgmq.q_tasker_step_results q
         WHERE q.vt <= clock_timestamp()
         ORDER BY q.msg_id LIMIT p_qty
           FOR UPDATE SKIP LOCKED)
    UPDATE pgmq.q_tasker_step_results m
       SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
           vt = clock_timestamp() + make_interval(secs => p_vt)
      FROM next WHERE m.msg_id = next.msg_id
    RETURNING m.msg_id, m.read_ct, m.message::text;
END;
$$;


--
-- Name: remove_step_messages(uuid, uuid); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.remove_step_messages(p_task_uuid uuid, p_step_uuid uuid DEFAULT NULL::uuid) RETURNS integer
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_queue text;
    v_count integer;
BEGIN
    SELECT namespace || '_queue' INTO v_queue FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    IF v_queue IS NULL OR NOT tasker.valid_queue_name(v_queue) THEN
        RETURN 0;
    END IF;
    EXECUTE format('DELETE FROM pgmq.%1$I WHERE msg_id IN (
                        SELECT msg_id FROM pgmq.%1$I
                         WHERE message->>''task_uuid'' = $1
                           AND ($2::text IS NULL OR message->>''step_uuid'' = $2)
                           FOR UPDATE SKIP LOCKED)', 'q_' || v_queue)
      USING p_task_uuid::text, p_step_uuid::text;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$_$;


--
-- Name: request_task(uuid, jsonb); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.request_task(p_task_uuid uuid, p_request jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF jsonb_typeof(p_request) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a task request must be a JSON object, got %', jsonb_typeof(p_request);
    END IF;
    RETURN pgmq.send('tasker_task_requests',
                     p_request || jsonb_build_object('task_uuid', p_task_uuid));
END;
$$;


--
-- Name: resume_namespace(text, text, text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.resume_namespace(p_namespace text, p_actor text, p_reason text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM tasker.paused_namespaces WHERE namespace = p_namespace;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO tasker.namespace_controls (namespace, action, actor, reason)
    VALUES (p_namespace, 'resume', p_actor, p_reason);
    PERFORM pg_notify('tasker_q_' || p_namespace || '_queue', '');
    RETURN true;
END;
$$;


--
-- Name: send_step_messages(uuid[], double precision); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.send_step_messages(p_step_uuids uuid[], p_delay_seconds double precision) RETURNS integer
    LANGUAGE plpgsql
    AS $_$
DECLARE
    q record;
    v_count integer := 0;
BEGIN
    FOR q IN SELECT t.namespace || '_queue' AS queue,
                    array_agg(tasker.build_step_message(s, t) ORDER BY s.position, s.step_uuid) AS msgs,
                    array_agg(t.run_at ORDER BY s.position, s.step_uuid) AS starts
               FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
              WHERE s.step_uuid = ANY (p_step_uuids)
              GROUP BY t.namespace LOOP
        IF NOT tasker.valid_queue_name(q.queue) THEN
            RAISE EXCEPTION 'invalid queue name %', quote_literal(q.queue);
        END IF;
        EXECUTE format('SELECT tasker.%I($1, $2, $3)', 'queue_send_' || q.queue)
        USING q.msgs, p_delay_seconds, q.starts;
        v_count := v_count + cardinality(q.msgs);
    END LOOP;
    RETURN v_count;
END;
$_$;


--
-- Name: state_counts(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.state_counts(p_from timestamp with time zone, p_to timestamp with time zone) RETURNS TABLE(kind text, namespace text, name text, state text, folded boolean, count bigint)
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_recent text :=
        $sql$WITH live AS (
             SELECT t.task_uuid, t.namespace, t.name, t.state, false AS folded
               FROM tasker.tasks t WHERE t.state IN ('pending', 'in_progress')
             UNION ALL
             SELECT t.task_uuid, t.namespace, t.name, t.state, t.completed_at < $2
               FROM tasker.tasks t
              WHERE t.completed_at >= $1 AND t.state IN ('complete', 'error', 'cancelled', 'resolved_manually'))
         SELECT 'task'::text AS kind, l.namespace, l.name, l.state, l.folded, count(*) AS count
           FROM live l GROUP BY l.namespace, l.name, l.state, l.folded
         UNION ALL
         SELECT 'step', NULL, NULL, s.state, l.folded, count(*)
           FROM live l JOIN tasker.workflow_steps s ON s.task_uuid = l.task_uuid
          GROUP BY s.state, l.folded$sql$;
BEGIN
    IF p_from IS NOT NULL THEN
        RETURN QUERY EXECUTE v_recent USING p_from, p_to;
        RETURN;
    END IF;
    -- Every row, one statement per table (each can scan in parallel, and a STABLE function's
    -- statements all read the calling query's snapshot), then the unfinished and recent rows:
    -- not folded, and subtracted from the folded ones.
    RETURN QUERY EXECUTE
        'SELECT ''task''::text, t.namespace, t.name, t.state, true, count(*)
           FROM tasker.tasks t GROUP BY t.namespace, t.name, t.state';
    RETURN QUERY EXECUTE
        'SELECT ''step''::text, NULL::text, NULL::text, s.state, true, count(*)
           FROM tasker.workflow_steps s GROUP BY s.state';
    RETURN QUERY EXECUTE
        'WITH recent AS (' || v_recent || ')
         SELECT r.kind, r.namespace, r.name, r.state, false, r.count FROM recent r
         UNION ALL
         SELECT r.kind, r.namespace, r.name, r.state, true, -r.count FROM recent r'
      USING p_to, p_to;
END;
$_$;


--
-- Name: step_children(uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.step_children(p_steps uuid[]) RETURNS uuid[]
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
BEGIN
    RETURN (SELECT COALESCE(array_agg(e.to_step), '{}'::uuid[])
              FROM tasker.workflow_step_edges e
             WHERE e.from_step = ANY (p_steps));
END;
$$;


--
-- Name: step_durations(double precision, double precision); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.step_durations(p_window_seconds double precision, p_horizon_seconds double precision) RETURNS TABLE(namespace text, name text, steps bigint, sum_seconds double precision, p50 double precision, p90 double precision, p99 double precision)
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_hex text := lpad(to_hex((extract(epoch FROM clock_timestamp()
                                                 - make_interval(secs => p_horizon_seconds)) * 1000)::bigint),
                       12, '0');
    v_floor uuid := (substr(v_hex, 1, 8) || '-' || substr(v_hex, 9, 4) || '-0000-0000-000000000000')::uuid;
BEGIN
    RETURN QUERY EXECUTE
        'WITH recent AS (
             SELECT s.task_uuid, extract(epoch FROM s.completed_at - s.started_at)::float8 AS seconds
               FROM tasker.workflow_steps s
              WHERE s.step_uuid >= $1 AND s.state = ''complete'' AND s.started_at IS NOT NULL
                AND s.completed_at >= clock_timestamp() - make_interval(secs => $2))
         SELECT t.namespace, t.name, count(*), sum(r.seconds),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds),
                percentile_cont(0.9) WITHIN GROUP (ORDER BY r.seconds),
                percentile_cont(0.99) WITHIN GROUP (ORDER BY r.seconds)
           FROM recent r
          CROSS JOIN LATERAL (SELECT t.namespace, t.name FROM tasker.tasks t
                               WHERE t.task_uuid = r.task_uuid OFFSET 0) t
          GROUP BY t.namespace, t.name ORDER BY t.namespace, t.name'
      USING v_floor, p_window_seconds;
END;
$_$;


--
-- Name: steps_readiness(uuid[], uuid[]); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.steps_readiness(p_task_uuids uuid[], p_candidates uuid[] DEFAULT NULL::uuid[]) RETURNS TABLE(task_uuid uuid, step_uuid uuid, name text, state text, attempts integer, max_attempts integer, parents_total integer, parents_done integer, ready boolean, skip boolean)
    LANGUAGE sql STABLE
    AS $$
    -- Each step's parents are counted by a lookup of its own edges (LATERAL), never by a join
    -- of the whole edge table: planned as one join, a generic plan made while the tables were
    -- small merged the steps with a full scan of workflow_step_edges' index (171 buffers per
    -- enqueue of one task at 600 edges, growing with the table; docs/performance.md, "Plans").
    SELECT s.task_uuid, s.step_uuid, s.name, s.state, s.attempts, s.max_attempts,
           c.total AS parents_total, c.done AS parents_done,
           (s.state = 'pending'
              OR (s.state = 'waiting_for_retry'
                  AND (s.backoff_until IS NULL OR s.backoff_until <= clock_timestamp())))
           AND s.attempts < s.max_attempts
           AND c.total = c.done
           AND (c.total = 0 OR c.total > c.skipped)
               AS ready,
           s.state = 'pending' AND c.total > 0 AND c.total = c.skipped
               AS skip
    -- The two row sources exclude each other; in a generic plan each is an index scan behind
    -- a one-time test of p_candidates, so only one of them runs.
    FROM (SELECT * FROM tasker.workflow_steps a
           WHERE p_candidates IS NULL AND a.task_uuid = ANY (p_task_uuids)
          UNION ALL
          SELECT * FROM tasker.workflow_steps a
           WHERE p_candidates IS NOT NULL AND a.step_uuid = ANY (p_candidates)
             AND a.task_uuid = ANY (p_task_uuids)) s
    CROSS JOIN LATERAL (
        SELECT count(*)::integer AS total,
               count(*) FILTER (WHERE p.state IN ('complete', 'resolved_manually', 'skipped'))::integer AS done,
               count(*) FILTER (WHERE p.state = 'skipped')::integer AS skipped
          FROM tasker.workflow_step_edges e
          JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
         WHERE e.to_step = s.step_uuid) c
$$;


--
-- Name: stranded_tasks(integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.stranded_tasks(p_limit integer) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_open uuid[];
    v_waiting uuid[];
BEGIN
    v_open := ARRAY(SELECT t.task_uuid FROM tasker.tasks t WHERE t.state IN ('pending', 'in_progress'));
    v_waiting := tasker.concurrency_waiting(v_open);
    RETURN QUERY
        SELECT DISTINCT r.task_uuid
          FROM tasker.steps_readiness(v_open) r
         WHERE r.ready AND r.state = 'pending'
           AND NOT (r.task_uuid = ANY (v_waiting))
         LIMIT p_limit;
END;
$$;


--
-- Name: submit_poison(text, bigint, jsonb); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.submit_poison(p_queue text, p_msg_id bigint, p_result jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    SELECT pgmq.send('tasker_step_results', p_result || '{"poison": true}'::jsonb) INTO v_id;
    PERFORM pgmq.archive(p_queue, p_msg_id);
    RETURN v_id;
END;
$$;


--
-- Name: task_request_status(uuid); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.task_request_status(p_task_uuid uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN (WITH request AS (
        SELECT r.request AS body, 'error' AS state, 'rejected' AS outcome, r.reason,
               r.rejected_at AS created_at, r.rejected_at AS completed_at
          FROM tasker.rejected_task_requests r
         WHERE r.task_uuid = p_task_uuid
        UNION ALL
        (SELECT q.message, 'pending', 'queued', NULL, q.enqueued_at, NULL
           FROM pgmq.q_tasker_task_requests q
          WHERE q.message->>'task_uuid' = p_task_uuid::text
          ORDER BY q.msg_id LIMIT 1)
    )
    SELECT jsonb_build_object(
        'task_uuid', p_task_uuid, 'namespace', body->>'namespace', 'name', body->>'name',
        'version', body->>'version', 'state', state, 'request', outcome, 'error', reason,
        'context', COALESCE(body->'context', '{}'::jsonb), 'initiator', body->>'initiator',
        'source_system', body->>'source_system', 'reason', body->>'reason',
        'tags', COALESCE(body->'tags', '[]'::jsonb), 'priority', body->'priority',
        'idempotency_key', body->>'idempotency_key',
        'created_at', created_at, 'updated_at', COALESCE(completed_at, created_at),
        'completed_at', completed_at, 'duration_ms', NULL,
        'step_count', 0, 'step_counts', '{}'::jsonb, 'completion_percentage', 0,
        'steps', '[]'::jsonb)
      FROM request
     ORDER BY state = 'error' DESC
     LIMIT 1);
END;
$$;


--
-- Name: task_status(uuid, integer, text, text, integer, integer); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.task_status(p_task_uuid uuid, p_collapse_above integer DEFAULT NULL::integer, p_template text DEFAULT NULL::text, p_state text DEFAULT NULL::text, p_offset integer DEFAULT 0, p_limit integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH instance_counts AS (
        SELECT s.element_of AS template, s.state, count(*)::integer AS n,
               min(s.position) AS position
          FROM tasker.workflow_steps s
         WHERE p_collapse_above IS NOT NULL AND s.task_uuid = p_task_uuid AND s.element_of IS NOT NULL
         GROUP BY s.element_of, s.state
    ),
    collapsed AS (
        SELECT template, min(position) AS position, sum(n)::integer AS instances,
               jsonb_object_agg(state, n) AS counts
          FROM instance_counts GROUP BY template
        HAVING sum(n) > p_collapse_above
    ),
    listed AS (
        SELECT s.*, false AS on_page
          FROM tasker.workflow_steps s
         WHERE s.task_uuid = p_task_uuid
           AND (s.element_of IS NULL OR NOT EXISTS (SELECT 1 FROM collapsed c WHERE c.template = s.element_of))
        UNION ALL
        (SELECT s.*, true AS on_page
           FROM tasker.workflow_steps s
          WHERE s.task_uuid = p_task_uuid AND s.element_of = p_template
            AND EXISTS (SELECT 1 FROM collapsed c WHERE c.template = p_template)
            AND (p_state IS NULL OR s.state = p_state)
          ORDER BY s.element_index OFFSET GREATEST(p_offset, 0) LIMIT p_limit)
    ),
    -- The readiness is read once into a map by step and each step finds its own in it: a
    -- join of the task's steps with their readiness, planned before the tables had
    -- statistics, compared every step with every other (3.6 s for a task of 10,000 instances
    -- against 0.44 s once analyzed). In the collapsed form only the listed steps' readiness
    -- is read, found by their uuids.
    readiness AS (
        SELECT COALESCE(
            (SELECT jsonb_object_agg(r.step_uuid::text,
                                     jsonb_build_array(r.ready, r.parents_total, r.parents_done))
               FROM tasker.steps_readiness(ARRAY[p_task_uuid]) r
              WHERE p_collapse_above IS NULL),
            (SELECT jsonb_object_agg(r.step_uuid::text,
                                     jsonb_build_array(r.ready, r.parents_total, r.parents_done))
               FROM tasker.steps_readiness(ARRAY[p_task_uuid]) r
              WHERE p_collapse_above IS NOT NULL
                AND r.step_uuid = ANY (ARRAY(SELECT l.step_uuid FROM listed l)))) AS m
    ),
    steps AS (
        SELECT s.*, (x.r->>0)::boolean AS ready, (x.r->>1)::integer AS parents_total,
               (x.r->>2)::integer AS parents_done
          FROM listed s, readiness,
               LATERAL (SELECT readiness.m->(s.step_uuid::text) AS r) x
    ),
    step_json AS (
        SELECT s.on_page, s.position, s.element_index, jsonb_build_object(
                    'step_uuid', s.step_uuid, 'name', s.name, 'handler', s.handler,
                    'state', s.state, 'attempts', s.attempts, 'max_attempts', s.max_attempts,
                    'retryable', s.retryable, 'ready', s.ready, 'depends_on', to_jsonb(s.depends_on),
                    'type', s.step_type, 'element_of', s.element_of, 'index', s.element_index,
                    'next_retry_at', CASE WHEN s.state = 'waiting_for_retry' THEN s.backoff_until END,
                    'timeout_seconds', s.timeout_seconds, 'config', s.config,
                    'results', s.results, 'last_error', s.last_error,
                    'result_metadata', (SELECT tr.metadata -> 'handler_metadata'
                                          FROM tasker.step_transitions tr
                                         WHERE tr.step_uuid = s.step_uuid AND tr.to_state = 'complete'
                                         ORDER BY tr.id DESC LIMIT 1),
                    'enqueued_at', s.enqueued_at, 'started_at', s.started_at,
                    'completed_at', s.completed_at) AS j
          FROM steps s
    ),
    all_steps AS (
        SELECT s.state FROM tasker.workflow_steps s WHERE s.task_uuid = p_task_uuid
    )
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'namespace', t.namespace, 'name', t.name,
        'version', t.version, 'state', t.state, 'context', t.context,
        'initiator', t.initiator, 'source_system', t.source_system, 'reason', t.reason,
        'tags', to_jsonb(t.tags), 'priority', t.priority, 'idempotency_key', t.idempotency_key,
        'run_at', t.run_at, 'scheduled', COALESCE(t.run_at > clock_timestamp() AND t.state IN ('pending', 'in_progress'), false),
        'concurrency_key', t.concurrency_key,
        'waiting_for', CASE WHEN t.task_uuid = ANY (tasker.concurrency_waiting(ARRAY[t.task_uuid]))
                            THEN format('waiting for concurrency key %s (limit %s)',
                                        t.concurrency_key, t.concurrency_limit) END,
        'created_at', t.created_at, 'updated_at', t.updated_at, 'completed_at', t.completed_at,
        'duration_ms', round(extract(epoch FROM (COALESCE(t.completed_at, clock_timestamp())
                                                  - t.created_at)) * 1000, 3),
        'step_count', (SELECT count(*) FROM all_steps),
        'step_counts', COALESCE((SELECT jsonb_object_agg(state, n)
                                   FROM (SELECT state, count(*) AS n FROM all_steps GROUP BY state) c),
                                '{}'::jsonb),
        'completion_percentage', COALESCE((SELECT round(100.0 * count(*) FILTER (
                                               WHERE state IN ('complete', 'resolved_manually', 'skipped'))
                                               / NULLIF(count(*), 0), 1) FROM all_steps), 0),
        'steps', COALESCE((SELECT jsonb_agg(j ORDER BY position, element_index)
                             FROM step_json WHERE NOT on_page), '[]'::jsonb))
    || CASE WHEN p_collapse_above IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
        'instance_groups', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                    'template', c.template, 'instances', c.instances, 'counts', c.counts,
                    'depends_on', (SELECT to_jsonb(s.depends_on) FROM tasker.workflow_steps s
                                    WHERE s.task_uuid = p_task_uuid AND s.element_of = c.template
                                    ORDER BY s.element_index LIMIT 1),
                    'before', (SELECT s.name FROM listed s
                                WHERE NOT s.on_page AND s.position > c.position
                                ORDER BY s.position, s.element_index LIMIT 1))
                    ORDER BY c.position, c.template) FROM collapsed c), '[]'::jsonb),
        'instance_page', (SELECT jsonb_build_object(
                    'template', c.template, 'state', p_state, 'offset', GREATEST(p_offset, 0),
                    'limit', p_limit,
                    'total', CASE WHEN p_state IS NULL THEN c.instances
                                  ELSE COALESCE((c.counts ->> p_state)::integer, 0) END,
                    'steps', COALESCE((SELECT jsonb_agg(j ORDER BY element_index)
                                         FROM step_json WHERE on_page), '[]'::jsonb))
                    FROM collapsed c WHERE c.template = p_template)) END
    FROM tasker.tasks t
    WHERE t.task_uuid = p_task_uuid
$$;


--
-- Name: valid_queue_name(text); Type: FUNCTION; Schema: tasker; Owner: -
--

CREATE FUNCTION tasker.valid_queue_name(p_queue text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT p_queue ~ '^[a-z][a-z0-9_]{0,46}$'
$_$;


--
-- Name: concurrency_keys; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.concurrency_keys (
    key text NOT NULL
);


--
-- Name: named_tasks; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.named_tasks (
    named_task_id bigint NOT NULL,
    namespace text NOT NULL,
    name text NOT NULL,
    version text NOT NULL,
    template jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: named_tasks_named_task_id_seq; Type: SEQUENCE; Schema: tasker; Owner: -
--

CREATE SEQUENCE tasker.named_tasks_named_task_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: named_tasks_named_task_id_seq; Type: SEQUENCE OWNED BY; Schema: tasker; Owner: -
--

ALTER SEQUENCE tasker.named_tasks_named_task_id_seq OWNED BY tasker.named_tasks.named_task_id;


--
-- Name: namespace_controls; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.namespace_controls (
    id bigint NOT NULL,
    namespace text NOT NULL,
    action text NOT NULL,
    actor text,
    reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT namespace_controls_action_check CHECK ((action = ANY (ARRAY['pause'::text, 'resume'::text])))
);


--
-- Name: namespace_controls_id_seq; Type: SEQUENCE; Schema: tasker; Owner: -
--

ALTER TABLE tasker.namespace_controls ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME tasker.namespace_controls_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: namespaces; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.namespaces (
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT namespaces_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,40}$'::text))
);


--
-- Name: paused_namespaces; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.paused_namespaces (
    namespace text NOT NULL,
    paused_by text,
    reason text,
    paused_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: rejected_task_requests; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.rejected_task_requests (
    task_uuid uuid NOT NULL,
    reason text NOT NULL,
    request jsonb NOT NULL,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: schedules; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.schedules (
    name text NOT NULL,
    namespace text NOT NULL,
    task_name text NOT NULL,
    version text,
    cron text NOT NULL,
    timezone text NOT NULL,
    context jsonb DEFAULT '{}'::jsonb NOT NULL,
    next_fire_at timestamp with time zone NOT NULL,
    last_fired_at timestamp with time zone,
    last_task_uuid uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: step_state_moves; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.step_state_moves (
    from_state text NOT NULL,
    to_state text NOT NULL
);


--
-- Name: step_transitions; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.step_transitions (
    id bigint NOT NULL,
    step_uuid uuid NOT NULL,
    task_uuid uuid NOT NULL,
    from_state text,
    to_state text NOT NULL,
    attempt integer DEFAULT 0 NOT NULL,
    reason text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: step_transitions_id_seq; Type: SEQUENCE; Schema: tasker; Owner: -
--

CREATE SEQUENCE tasker.step_transitions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: step_transitions_id_seq; Type: SEQUENCE OWNED BY; Schema: tasker; Owner: -
--

ALTER SEQUENCE tasker.step_transitions_id_seq OWNED BY tasker.step_transitions.id;


--
-- Name: task_transitions; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.task_transitions (
    id bigint NOT NULL,
    task_uuid uuid NOT NULL,
    from_state text,
    to_state text NOT NULL,
    reason text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: task_transitions_id_seq; Type: SEQUENCE; Schema: tasker; Owner: -
--

CREATE SEQUENCE tasker.task_transitions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: task_transitions_id_seq; Type: SEQUENCE OWNED BY; Schema: tasker; Owner: -
--

ALTER SEQUENCE tasker.task_transitions_id_seq OWNED BY tasker.task_transitions.id;


--
-- Name: workflow_step_edges; Type: TABLE; Schema: tasker; Owner: -
--

CREATE TABLE tasker.workflow_step_edges (
    task_uuid uuid NOT NULL,
    from_step uuid NOT NULL,
    to_step uuid NOT NULL,
    CONSTRAINT workflow_step_edges_check CHECK ((from_step <> to_step))
);


--
-- Name: named_tasks named_task_id; Type: DEFAULT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.named_tasks ALTER COLUMN named_task_id SET DEFAULT nextval('tasker.named_tasks_named_task_id_seq'::regclass);


--
-- Name: step_transitions id; Type: DEFAULT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.step_transitions ALTER COLUMN id SET DEFAULT nextval('tasker.step_transitions_id_seq'::regclass);


--
-- Name: task_transitions id; Type: DEFAULT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.task_transitions ALTER COLUMN id SET DEFAULT nextval('tasker.task_transitions_id_seq'::regclass);


--
-- Name: concurrency_keys concurrency_keys_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.concurrency_keys
    ADD CONSTRAINT concurrency_keys_pkey PRIMARY KEY (key);


--
-- Name: named_tasks named_tasks_namespace_name_version_key; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.named_tasks
    ADD CONSTRAINT named_tasks_namespace_name_version_key UNIQUE (namespace, name, version);


--
-- Name: named_tasks named_tasks_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.named_tasks
    ADD CONSTRAINT named_tasks_pkey PRIMARY KEY (named_task_id);


--
-- Name: namespace_controls namespace_controls_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.namespace_controls
    ADD CONSTRAINT namespace_controls_pkey PRIMARY KEY (id);


--
-- Name: namespaces namespaces_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.namespaces
    ADD CONSTRAINT namespaces_pkey PRIMARY KEY (name);


--
-- Name: paused_namespaces paused_namespaces_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.paused_namespaces
    ADD CONSTRAINT paused_namespaces_pkey PRIMARY KEY (namespace);


--
-- Name: rejected_task_requests rejected_task_requests_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.rejected_task_requests
    ADD CONSTRAINT rejected_task_requests_pkey PRIMARY KEY (task_uuid);


--
-- Name: schedules schedules_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.schedules
    ADD CONSTRAINT schedules_pkey PRIMARY KEY (name);


--
-- Name: step_state_moves step_state_moves_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.step_state_moves
    ADD CONSTRAINT step_state_moves_pkey PRIMARY KEY (from_state, to_state);


--
-- Name: step_transitions step_transitions_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.step_transitions
    ADD CONSTRAINT step_transitions_pkey PRIMARY KEY (id);


--
-- Name: task_transitions task_transitions_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.task_transitions
    ADD CONSTRAINT task_transitions_pkey PRIMARY KEY (id);


--
-- Name: tasks tasks_idempotency_key_key; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.tasks
    ADD CONSTRAINT tasks_idempotency_key_key UNIQUE (idempotency_key);


--
-- Name: tasks tasks_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.tasks
    ADD CONSTRAINT tasks_pkey PRIMARY KEY (task_uuid);


--
-- Name: workflow_step_edges workflow_step_edges_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.workflow_step_edges
    ADD CONSTRAINT workflow_step_edges_pkey PRIMARY KEY (from_step, to_step);


--
-- Name: workflow_steps workflow_steps_pkey; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.workflow_steps
    ADD CONSTRAINT workflow_steps_pkey PRIMARY KEY (step_uuid);


--
-- Name: workflow_steps workflow_steps_task_uuid_name_key; Type: CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.workflow_steps
    ADD CONSTRAINT workflow_steps_task_uuid_name_key UNIQUE (task_uuid, name);


--
-- Name: namespace_controls_namespace_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX namespace_controls_namespace_idx ON tasker.namespace_controls USING btree (namespace, created_at);


--
-- Name: rejected_task_requests_rejected_at_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX rejected_task_requests_rejected_at_idx ON tasker.rejected_task_requests USING btree (rejected_at);


--
-- Name: schedules_next_fire_at_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX schedules_next_fire_at_idx ON tasker.schedules USING btree (next_fire_at);


--
-- Name: step_transitions_step_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX step_transitions_step_idx ON tasker.step_transitions USING btree (step_uuid, id);


--
-- Name: step_transitions_task_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX step_transitions_task_idx ON tasker.step_transitions USING btree (task_uuid);


--
-- Name: task_transitions_task_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX task_transitions_task_idx ON tasker.task_transitions USING btree (task_uuid, id);


--
-- Name: tasks_active_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_active_idx ON tasker.tasks USING btree (created_at) WHERE (state = ANY (ARRAY['pending'::text, 'in_progress'::text]));


--
-- Name: tasks_completed_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_completed_idx ON tasker.tasks USING btree (completed_at) WHERE (completed_at IS NOT NULL);


--
-- Name: tasks_concurrency_key_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_concurrency_key_idx ON tasker.tasks USING btree (concurrency_key, state, created_at, task_uuid) WHERE (concurrency_key IS NOT NULL);


--
-- Name: tasks_created_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_created_idx ON tasker.tasks USING btree (created_at, task_uuid);


--
-- Name: tasks_error_created_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_error_created_idx ON tasker.tasks USING btree (created_at, task_uuid) WHERE (state = 'error'::text);


--
-- Name: tasks_named_created_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_named_created_idx ON tasker.tasks USING btree (namespace, name, created_at DESC);


--
-- Name: tasks_run_at_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX tasks_run_at_idx ON tasker.tasks USING btree (run_at) WHERE (run_at IS NOT NULL);


--
-- Name: workflow_step_edges_to_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX workflow_step_edges_to_idx ON tasker.workflow_step_edges USING btree (to_step);


--
-- Name: workflow_steps_elements_idx; Type: INDEX; Schema: tasker; Owner: -
--

CREATE INDEX workflow_steps_elements_idx ON tasker.workflow_steps USING btree (task_uuid, element_of, element_index) WHERE (element_of IS NOT NULL);


--
-- Name: named_tasks named_tasks_namespace_fkey; Type: FK CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.named_tasks
    ADD CONSTRAINT named_tasks_namespace_fkey FOREIGN KEY (namespace) REFERENCES tasker.namespaces(name);


--
-- Name: tasks tasks_named_task_id_fkey; Type: FK CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.tasks
    ADD CONSTRAINT tasks_named_task_id_fkey FOREIGN KEY (named_task_id) REFERENCES tasker.named_tasks(named_task_id);


--
-- Name: workflow_steps workflow_steps_task_uuid_fkey; Type: FK CONSTRAINT; Schema: tasker; Owner: -
--

ALTER TABLE ONLY tasker.workflow_steps
    ADD CONSTRAINT workflow_steps_task_uuid_fkey FOREIGN KEY (task_uuid) REFERENCES tasker.tasks(task_uuid) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


