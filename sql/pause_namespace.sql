-- Pauses a namespace (TaskerCore.pause): from the next claim on, no worker claims its steps;
-- steps already running finish. Records who asked. Returns false when it was paused already.
CREATE OR REPLACE FUNCTION tasker.pause_namespace(p_namespace text, p_actor text, p_reason text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_new boolean;
BEGIN
    INSERT INTO tasker.paused_namespaces (namespace, paused_by, reason)
    VALUES (p_namespace, p_actor, p_reason)
    ON CONFLICT (namespace) DO NOTHING;
    v_new := FOUND;
    IF v_new THEN
        INSERT INTO tasker.namespace_controls (namespace, action, actor, reason)
        VALUES (p_namespace, 'pause', p_actor, p_reason);
    END IF;
    RETURN v_new;
END;
$$;
