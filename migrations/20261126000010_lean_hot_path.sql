-- Per-step database work, trimmed after profiling (docs/performance.md):
--
-- 1. The audit tables are append-only and written on every transition; their foreign keys
--    cost a FOR KEY SHARE row lock (and its WAL) on the step or task per insert. They go:
--    rows are only ever inserted for existing steps and tasks, in the same transaction that
--    changes them. Deleting a task deletes its transitions (tasker.delete_task).
ALTER TABLE tasker.step_transitions DROP CONSTRAINT step_transitions_step_uuid_fkey;
ALTER TABLE tasker.task_transitions DROP CONSTRAINT task_transitions_task_uuid_fkey;
CREATE INDEX step_transitions_task_idx ON tasker.step_transitions (task_uuid);

CREATE FUNCTION tasker.delete_task(p_task_uuid uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasker.step_transitions WHERE task_uuid = p_task_uuid;
    DELETE FROM tasker.task_transitions WHERE task_uuid = p_task_uuid;
    DELETE FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    RETURN FOUND;
END;
$$;

-- 2. pgmq's functions build their SQL with format() and EXECUTE, so every call is parsed and
--    planned anew. The results queue has a fixed name: the worker's submission writes it with
--    static SQL (planned once per connection), with exactly the row pgmq.send writes.
CREATE OR REPLACE FUNCTION tasker.submit_result(p_queue text, p_msg_id bigint, p_result jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    IF NOT tasker.valid_queue_name(p_queue) THEN
        RAISE EXCEPTION 'invalid queue name %', quote_literal(p_queue);
    END IF;
    INSERT INTO pgmq.q_tasker_step_results (vt, message) VALUES (clock_timestamp(), p_result)
    RETURNING msg_id INTO v_id;
    PERFORM pgmq.delete(p_queue, p_msg_id);
    RETURN v_id;
END;
$$;
