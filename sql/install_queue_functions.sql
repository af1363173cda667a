-- The two statements a worker runs for every step, written for one queue:
--   tasker.queue_claim_<queue>(vt, qty, max_reads): reads up to qty visible messages, makes
--     each invisible for its own step's timeout (message_timeout) and claims its step
--     (claim_message), in one statement and one commit;
--   tasker.queue_submit_<queue>(msg_id, result): sends the result to tasker_step_results and
--     deletes the step message, in one statement and one commit.
-- and the orchestrator's insert of step messages into it:
--   tasker.queue_send_<queue>(msgs, delay, starts): what send_step_messages sends there, each
--     message visible after the delay and never before its start.
-- Why not pgmq.read / pgmq.send / pgmq.delete: pgmq builds its SQL with format() and EXECUTE,
-- so every call is parsed and planned again (0.25 ms of the read's 0.4 ms; the worker's claim
-- statement went from 0.84 to 0.30 ms per step with the table named in it, docs/performance.md),
-- and pgmq.read sets one visibility timeout for the whole read, not one per step. A PL/pgSQL
-- function names the queue's table in static SQL, so its plans are cached per connection.
-- The same locking as pgmq.read (FOR UPDATE SKIP LOCKED), but the visible messages are taken
-- highest task priority first (the message's "priority", build_step_message), then oldest
-- first (docs/operations.md, "Priority"), in three parts: priorities above 0, then 0, then
-- below 0. Priority 0, the default, is read by msg_id through the queue's primary key as
-- pgmq reads; only the messages of another priority are in q_<queue>_prio_idx, (priority
-- DESC, msg_id) WHERE priority <> 0. Indexing every message cost each insert and each claim
-- (a claim moves `vt`, which pgmq indexes, so no update is HOT) one more index entry: about
-- 10% of the throughput at 8 worker threads with no task using priority (docs/performance.md).
-- While the queue's namespace is paused (queue_paused) the claim returns nothing.
-- ensure_queue installs them with the queue; migrate! installs them again for every queue.
CREATE OR REPLACE FUNCTION tasker.install_queue_functions(p_queue text) RETURNS void
LANGUAGE plpgsql AS $$
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
$$;
