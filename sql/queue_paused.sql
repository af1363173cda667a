-- Whether the namespace whose queue this is (`<namespace>_queue`) is paused: every queue's
-- claim (install_queue_functions) returns nothing while it is, and next_visible_in leaves it
-- out so an idle worker does not wake for messages it may not claim.
CREATE OR REPLACE FUNCTION tasker.queue_paused(p_queue text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM tasker.paused_namespaces p WHERE p.namespace || '_queue' = p_queue)
$$;
