-- Sends the messages of these steps' next attempts to their namespaces' queues, visible after
-- p_delay_seconds (0: at once; a retry's backoff otherwise), and never before their task's
-- run_at (create_task(run_at:/delay:): the delayed message carries the wait): one insert per
-- queue. Used by the enqueue, the retry of a failed attempt and the recovery of a lost step,
-- always in the transaction that moves the steps.
-- Why not pgmq.send_batch: the same INSERT, without pgmq's per-call overhead of building its
-- statement (pgmq.send 0.32 ms against its INSERT's 0.10 ms, docs/performance.md). The queue's
-- name is data here, so the call is dynamic, but only the call: the INSERT is the queue's own
-- queue_send_<queue> (install_queue_functions), planned once per connection; parsing and
-- planning the INSERT itself on every call cost about 0.1 ms per enqueue (docs/performance.md).
CREATE OR REPLACE FUNCTION tasker.send_step_messages(p_step_uuids uuid[], p_delay_seconds double precision)
RETURNS integer
LANGUAGE plpgsql AS $$
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
$$;
