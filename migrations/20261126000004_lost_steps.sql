-- Recovery: steps that should be moving but have no message anywhere to move them.

-- Active steps past their deadline (claim, or enqueue/backoff, plus timeout and grace) for
-- which neither their namespace queue nor the results queue holds a message. These were
-- lost (a result archived as poison, a queue purged by hand) and the sweep re-enqueues or
-- fails them. Queue names come from validated namespaces and are quoted with %I.
CREATE FUNCTION tasker.lost_steps(p_grace_seconds double precision, p_limit integer)
RETURNS TABLE (step_uuid uuid, task_uuid uuid, state text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    v_found boolean;
BEGIN
    FOR r IN
        SELECT s.step_uuid, s.task_uuid, s.state, t.namespace || '_queue' AS queue
          FROM tasker.workflow_steps s
          JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
         WHERE s.state IN ('enqueued', 'in_progress', 'waiting_for_retry')
           AND t.state = 'in_progress'
           AND GREATEST(s.started_at, s.enqueued_at, s.backoff_until, s.updated_at)
               + make_interval(secs => s.timeout_seconds + p_grace_seconds) < clock_timestamp()
         ORDER BY s.updated_at
         LIMIT p_limit
    LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(r.queue);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM pgmq.%I WHERE message->>''step_uuid'' = $1)',
                       'q_' || r.queue)
           INTO v_found USING r.step_uuid::text;
        CONTINUE WHEN v_found;
        SELECT EXISTS (SELECT 1 FROM pgmq.q_tasker_step_results
                        WHERE message->>'step_uuid' = r.step_uuid::text) INTO v_found;
        CONTINUE WHEN v_found;
        step_uuid := r.step_uuid;
        task_uuid := r.task_uuid;
        state := r.state;
        RETURN NEXT;
    END LOOP;
END;
$$;
