-- A worker's report that a step message was read too often without a result (poison): a
-- failure marked poison goes to tasker_step_results and the message to its queue's archive,
-- in one transaction; the orchestrator then fails the step. pgmq's own functions: rare.
CREATE OR REPLACE FUNCTION tasker.submit_poison(p_queue text, p_msg_id bigint, p_result jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
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
