-- A claim need not wait for its WAL flush: if a crash loses it, the message simply becomes
-- visible again and the step is claimed anew (at-least-once, as with a worker that dies).
-- WAL is written in order, so the durable commit of the step's result (submit_result, which
-- stays synchronous) also makes the claim before it durable.
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
    FOR m IN SELECT * FROM pgmq.read(p_queue, p_vt, p_qty) LOOP
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
