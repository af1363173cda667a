-- The statement-level insert trigger of every queue tasker-core uses (see ensure_queue):
-- one NOTIFY per inserting statement on `tasker_q_<queue>` wakes the workers (or the
-- orchestrator, for tasker_step_results) that LISTEN there. The payload is empty: listeners
-- read the queue, they never trust a notification's content. Identical notifications of one
-- transaction are folded into one by PostgreSQL, which is all a listener needs.
CREATE OR REPLACE FUNCTION tasker.notify_queue_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tasker_' || TG_TABLE_NAME, '');
    RETURN NULL;
END;
$$;
