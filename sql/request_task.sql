-- create_task(..., connection:): the request, carrying the task uuid the caller generated,
-- sent to the task requests queue on the caller's connection, inside its open transaction.
-- The orchestrator's request consumer creates the task with that uuid once the transaction
-- commits; a rollback takes the message with it. Returns the message id.
CREATE OR REPLACE FUNCTION tasker.request_task(p_task_uuid uuid, p_request jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(p_request) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a task request must be a JSON object, got %', jsonb_typeof(p_request);
    END IF;
    RETURN pgmq.send('{{TASK_REQUESTS_QUEUE}}',
                     p_request || jsonb_build_object('task_uuid', p_task_uuid));
END;
$$;
