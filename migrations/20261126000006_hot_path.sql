-- Fewer round trips and commits per step, and the indexes the dashboard's lists need.

-- Read and claim in one statement (one commit): every message read from the queue is
-- claimed at once (tasker.claim_step) unless it is not a step message ("invalid") or was read
-- more than p_max_reads times ("poison"); the worker acts on each row's claim.
CREATE FUNCTION tasker.claim_next(p_queue text, p_vt integer, p_qty integer, p_max_reads integer)
RETURNS TABLE (msg_id bigint, read_ct integer, message text, claim jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    v_ok boolean;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
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

-- Enqueue what became ready, then report the task's step counts per state, in one round trip.
CREATE FUNCTION tasker.enqueue_and_count(p_task_uuid uuid, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_counts jsonb;
BEGIN
    PERFORM tasker.enqueue_ready_steps(p_task_uuid, p_reason);
    SELECT COALESCE(jsonb_object_agg(state, n), '{}'::jsonb) INTO v_counts
      FROM (SELECT state, count(*) AS n FROM tasker.workflow_steps
             WHERE task_uuid = p_task_uuid GROUP BY state) c;
    RETURN v_counts;
END;
$$;

-- Dashboard: task list paging and last-hour counts, failed tasks, steps waiting to retry.
CREATE INDEX tasks_created_idx ON tasker.tasks (created_at, task_uuid);
CREATE INDEX tasks_error_created_idx ON tasker.tasks (created_at, task_uuid) WHERE state = 'error';
CREATE INDEX workflow_steps_retry_idx ON tasker.workflow_steps (backoff_until)
    WHERE state = 'waiting_for_retry';
