-- The claim of one step message just read by a worker (queue_claim_<queue>): the message
-- must be a JSON object with a step uuid and an attempt number (else `invalid`: the worker
-- archives it), and read no more than p_max_reads times (else `poison`: the worker reports
-- the step failed). Then claim_step.
CREATE OR REPLACE FUNCTION tasker.claim_message(p_message jsonb, p_read_ct integer, p_max_reads integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
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
$$;
