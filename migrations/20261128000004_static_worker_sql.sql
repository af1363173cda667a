-- The worker reads and claims, and submits, with statements it prepares once per connection
-- and queue (lib/tasker_core/worker/queue_client.rb): the queue's table named directly, so
-- PostgreSQL plans them once instead of on every call as it does pgmq's and our own dynamic
-- SQL (about 0.25 ms of the read's 0.4 ms, docs/performance.md). This is the part of the
-- claim that runs per message read.

-- The claim of one message just read: its shape checked, poison refused, the step claimed.
-- {"status": "invalid" | "poison" | ...claim_step's statuses}. The claim's commit need not
-- wait for its WAL flush: a claim lost in a crash leaves the message to come back and be
-- claimed anew (at-least-once, as with a worker that dies), and the step's result, which is
-- committed durably, makes everything before it durable.
CREATE FUNCTION tasker.claim_message(p_message jsonb, p_read_ct integer, p_max_reads integer)
RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    IF NOT COALESCE(jsonb_typeof(p_message) = 'object'
                    AND p_message->>'step_uuid' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    AND jsonb_typeof(p_message->'attempt') = 'number'
                    AND p_message->>'attempt' ~ '^[0-9]{1,9}$', false) THEN
        RETURN '{"status": "invalid"}'::jsonb;
    END IF;
    IF p_read_ct > p_max_reads THEN
        RETURN '{"status": "poison"}'::jsonb;
    END IF;
    RETURN tasker.claim_step_only((p_message->>'step_uuid')::uuid, (p_message->>'attempt')::integer);
END;
$$;

-- The same through one function call, for callers that name the queue at run time.
CREATE OR REPLACE FUNCTION tasker.claim_next(p_queue text, p_vt integer, p_qty integer, p_max_reads integer)
RETURNS TABLE (msg_id bigint, read_ct integer, message text, claim jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT m.msg_id, m.read_ct, m.message::text, tasker.claim_message(m.message, m.read_ct, p_max_reads)
          FROM tasker.queue_read_for_claim(p_queue, p_vt, p_qty) m
         ORDER BY m.msg_id;
END;
$$;
