-- Deletes applied result messages, in the transaction that applied them. Why not
-- pgmq.delete: one statement for a whole batch, planned once per connection (pgmq.delete
-- plans its dynamic SQL on every call, for one or an array of ids).
CREATE OR REPLACE FUNCTION tasker.delete_results(p_msg_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM pgmq.q_tasker_step_results WHERE msg_id = ANY (p_msg_ids);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
