-- Steps of running tasks that should have moved by now (their timeout plus p_grace_seconds
-- past their last change) and of which no message is left anywhere: none in their queue, no
-- result in tasker_step_results. The recovery sweep enqueues them again, or fails them.
-- One scan of each queue involved per call, however many steps are overdue (an anti-join
-- against the queue table), and every overdue step is checked, not only the oldest ones;
-- at most p_limit lost steps per queue are returned.
-- Why the queue tables: pgmq finds messages by msg_id only, and these are found by content.
CREATE OR REPLACE FUNCTION tasker.lost_steps(p_grace_seconds double precision, p_limit integer)
RETURNS TABLE (step_uuid uuid, task_uuid uuid, state text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q record;
BEGIN
    FOR q IN
        SELECT t.namespace || '_queue' AS queue, array_agg(s.step_uuid) AS steps
          FROM tasker.tasks t
          JOIN tasker.workflow_steps s ON s.task_uuid = t.task_uuid
         WHERE t.state = 'in_progress'
           AND s.state IN ('enqueued', 'in_progress', 'waiting_for_retry')
           AND GREATEST(s.started_at, s.enqueued_at, s.backoff_until, s.updated_at)
               + make_interval(secs => s.timeout_seconds + p_grace_seconds) < clock_timestamp()
         GROUP BY t.namespace
    LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(q.queue);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = q.queue);
        RETURN QUERY EXECUTE format(
            'SELECT s.step_uuid, s.task_uuid, s.state FROM tasker.workflow_steps s
              WHERE s.step_uuid = ANY ($1)
                AND NOT EXISTS (SELECT 1 FROM pgmq.%I m
                                 WHERE m.message->>''step_uuid'' = s.step_uuid::text)
                AND NOT EXISTS (SELECT 1 FROM pgmq.q_tasker_step_results r
                                 WHERE r.message->>''step_uuid'' = s.step_uuid::text)
              ORDER BY s.updated_at LIMIT $2', 'q_' || q.queue)
        USING q.steps, p_limit;
    END LOOP;
END;
$$;
