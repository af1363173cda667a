-- Resumes a paused namespace (TaskerCore.resume), records who asked, and wakes the workers
-- waiting on its queue's insert channel (the one notify_queue_insert uses) so they read at
-- once. Returns false when it was not paused.
CREATE OR REPLACE FUNCTION tasker.resume_namespace(p_namespace text, p_actor text, p_reason text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasker.paused_namespaces WHERE namespace = p_namespace;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO tasker.namespace_controls (namespace, action, actor, reason)
    VALUES (p_namespace, 'resume', p_actor, p_reason);
    PERFORM pg_notify('tasker_q_' || p_namespace || '_queue', '');
    RETURN true;
END;
$$;
