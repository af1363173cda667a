-- Creates a queue tasker-core uses (pgmq.create), its insert trigger (notify_queue_insert)
-- and its statements (install_queue_functions), once; concurrent callers wait for each other.
-- Rejects any name that is not a valid queue name before it reaches a statement.
CREATE OR REPLACE FUNCTION tasker.ensure_queue(p_queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %: expected {{QUEUE_NAME_PATTERN}}', quote_literal(p_queue);
    END IF;
    IF to_regprocedure(format('tasker.%I(bigint, jsonb)', 'queue_submit_' || p_queue)) IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'pgmq' AND c.relname = 'q_' || p_queue
                      AND g.tgname = 'tasker_notify_insert') THEN
        RETURN;
    END IF;
    -- Registrations in several processes at once: one creates, the others find it done.
    PERFORM pg_advisory_xact_lock(hashtext('tasker.ensure_queue'));
    IF NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = p_queue) THEN
        PERFORM pgmq.create(p_queue);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS tasker_notify_insert ON pgmq.%I', 'q_' || p_queue);
    EXECUTE format('CREATE TRIGGER tasker_notify_insert AFTER INSERT ON pgmq.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tasker.notify_queue_insert()',
                   'q_' || p_queue);
    PERFORM tasker.install_queue_functions(p_queue);
END;
$$;
