-- Whether the namespace whose queue this is (`<namespace>_queue`) is paused: every queue's
-- claim (install_queue_functions) returns nothing while it is, and next_visible_in leaves it
-- out so an idle worker does not wake for messages it may not claim.
-- PL/pgSQL, not SQL: a SQL function with a subquery is never inlined, and PostgreSQL then
-- parses and plans its body again in every transaction that calls it (every claim); a
-- PL/pgSQL function keeps its plan for the connection (docs/performance.md, "Plans").
CREATE OR REPLACE FUNCTION tasker.queue_paused(p_queue text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM tasker.paused_namespaces p WHERE p.namespace || '_queue' = p_queue);
END;
$$;
