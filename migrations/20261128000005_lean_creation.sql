-- Task creation writes a task's steps, edges and first audit rows in one statement. The
-- edges' foreign keys cost a FOR KEY SHARE lock (and its WAL) on a step or task per edge
-- and column, three per edge, for rows written in the same statement as the rows they point
-- at and never changed afterwards. They go, like the audit tables' (20261126000010);
-- deleting a task deletes its edges.
ALTER TABLE tasker.workflow_step_edges DROP CONSTRAINT workflow_step_edges_task_uuid_fkey;
ALTER TABLE tasker.workflow_step_edges DROP CONSTRAINT workflow_step_edges_from_step_fkey;
ALTER TABLE tasker.workflow_step_edges DROP CONSTRAINT workflow_step_edges_to_step_fkey;

CREATE OR REPLACE FUNCTION tasker.delete_task(p_task_uuid uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasker.workflow_step_edges
     WHERE from_step IN (SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = p_task_uuid);
    DELETE FROM tasker.step_transitions WHERE task_uuid = p_task_uuid;
    DELETE FROM tasker.task_transitions WHERE task_uuid = p_task_uuid;
    DELETE FROM tasker.tasks WHERE task_uuid = p_task_uuid;
    RETURN FOUND;
END;
$$;
