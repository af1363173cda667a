-- A worker's report on a message it will not run again (delivered past the step's attempts,
-- or read more times than allowed): the failure result goes to the results queue marked as
-- poison (the orchestrator fails the step whatever attempt it is on) and the message moves
-- to the queue's archive for inspection, in one transaction.
CREATE FUNCTION tasker.submit_poison(p_queue text, p_msg_id bigint, p_result jsonb)
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
