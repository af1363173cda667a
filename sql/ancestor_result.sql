-- The results of one step of a task, by name: what a worker reads when its handler asks for
-- an ancestor's result that its claim left out for its size (claim_step's `deferred`). A
-- step's results do not change once it is complete, so reading them after the claim gives
-- what the claim would have carried. NULL when the task has no such step.
CREATE OR REPLACE FUNCTION tasker.ancestor_result(p_task_uuid uuid, p_name text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT s.results FROM tasker.workflow_steps s WHERE s.task_uuid = p_task_uuid AND s.name = p_name
$$;
