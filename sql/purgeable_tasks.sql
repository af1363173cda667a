-- The retention rule, in one place: finished tasks (TaskState::is_finished) whose completion
-- is older than p_cutoff, oldest first, at most p_limit (all when NULL). Read by
-- tasker.purge_tasks (which locks them) and tasker.purge_counts (the dry run).
CREATE OR REPLACE FUNCTION tasker.purgeable_tasks(p_cutoff timestamptz, p_limit integer)
RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT t.task_uuid
      FROM tasker.tasks t
     WHERE t.completed_at IS NOT NULL
       AND t.completed_at < p_cutoff
       AND t.state IN ({{FINISHED_TASK_STATES}})
     ORDER BY t.completed_at
     LIMIT p_limit
$$;
