-- The status of a task that does not exist (yet) but was asked for with this uuid
-- (create_task(..., connection:)), in the shape of tasker.task_status:
--   state 'pending', request 'queued'    its request is committed and waiting for the
--                                        orchestrator's request consumer;
--   state 'error', request 'rejected'    the consumer could not create it; `error` says why.
-- NULL when neither (no such request, or a rolled back one). task_status and wait_for_task
-- ask it only after tasker.task_status found no task.
-- Why the queue table: pgmq finds messages by msg_id only, and this one is found by content.
-- The queue holds only requests not yet consumed, so the scan is short. PL/pgSQL: the queue's
-- table is created after sql/ is applied (migrate!), so the body is resolved at its first call.
CREATE OR REPLACE FUNCTION tasker.task_request_status(p_task_uuid uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (WITH request AS (
        SELECT r.request AS body, 'error' AS state, 'rejected' AS outcome, r.reason,
               r.rejected_at AS created_at, r.rejected_at AS completed_at
          FROM tasker.rejected_task_requests r
         WHERE r.task_uuid = p_task_uuid
        UNION ALL
        (SELECT q.message, 'pending', 'queued', NULL, q.enqueued_at, NULL
           FROM pgmq.q_{{TASK_REQUESTS_QUEUE}} q
          WHERE q.message->>'task_uuid' = p_task_uuid::text
          ORDER BY q.msg_id LIMIT 1)
    )
    SELECT jsonb_build_object(
        'task_uuid', p_task_uuid, 'namespace', body->>'namespace', 'name', body->>'name',
        'version', body->>'version', 'state', state, 'request', outcome, 'error', reason,
        'context', COALESCE(body->'context', '{}'::jsonb), 'initiator', body->>'initiator',
        'source_system', body->>'source_system', 'reason', body->>'reason',
        'tags', COALESCE(body->'tags', '[]'::jsonb), 'priority', body->'priority',
        'idempotency_key', body->>'idempotency_key',
        'created_at', created_at, 'updated_at', COALESCE(completed_at, created_at),
        'completed_at', completed_at, 'duration_ms', NULL,
        'step_count', 0, 'step_counts', '{}'::jsonb, 'completion_percentage', 0,
        'steps', '[]'::jsonb)
      FROM request
     ORDER BY state = 'error' DESC
     LIMIT 1);
END;
$$;
