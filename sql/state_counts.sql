-- Tasks by template and state, and steps by state, for TaskerCore.metrics, without reading the
-- finished history on every scrape (TaskerCore::Metrics::StateCounts keeps what it read).
-- Rows: kind ('task' with namespace and name, or 'step'), state, folded, count.
--   p_from given: the tasks that are unfinished (through tasks_active_idx) or finished since
--     p_from (a range of tasks_completed_idx), and their steps (workflow_steps' (task_uuid,
--     name) key); folded: the task finished before p_to. The caller adds the folded rows to
--     what it keeps and asks from p_to next time: the cost follows the work in flight and the
--     tasks finished since the last scrape, not the history kept.
--   p_from NULL: everything, in one snapshot: every row counted (folded), and the unfinished
--     tasks and those finished since p_to with their steps (not folded, and again folded
--     with a negative count): summed, the folded rows are the tasks finished before p_to.
-- A task's completed_at is stamped whenever it enters a finished state and cleared when it
-- leaves one (store::settle), so a task finished before p_to and changed since is found again.
-- EXECUTE (the text dollar-quoted: the state lists are quoted): each call is planned with
-- its actual bounds, so the ranges use the indexes.
CREATE OR REPLACE FUNCTION tasker.state_counts(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (kind text, namespace text, name text, state text, folded boolean, count bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_recent text :=
        $sql$WITH live AS (
             SELECT t.task_uuid, t.namespace, t.name, t.state, false AS folded
               FROM tasker.tasks t WHERE t.state IN ({{OPEN_TASK_STATES}})
             UNION ALL
             SELECT t.task_uuid, t.namespace, t.name, t.state, t.completed_at < $2
               FROM tasker.tasks t
              WHERE t.completed_at >= $1 AND t.state IN ({{FINISHED_TASK_STATES}}))
         SELECT 'task'::text AS kind, l.namespace, l.name, l.state, l.folded, count(*) AS count
           FROM live l GROUP BY l.namespace, l.name, l.state, l.folded
         UNION ALL
         SELECT 'step', NULL, NULL, s.state, l.folded, count(*)
           FROM live l JOIN tasker.workflow_steps s ON s.task_uuid = l.task_uuid
          GROUP BY s.state, l.folded$sql$;
BEGIN
    IF p_from IS NOT NULL THEN
        RETURN QUERY EXECUTE v_recent USING p_from, p_to;
        RETURN;
    END IF;
    -- Every row, one statement per table (each can scan in parallel, and a STABLE function's
    -- statements all read the calling query's snapshot), then the unfinished and recent rows:
    -- not folded, and subtracted from the folded ones.
    RETURN QUERY EXECUTE
        'SELECT ''task''::text, t.namespace, t.name, t.state, true, count(*)
           FROM tasker.tasks t GROUP BY t.namespace, t.name, t.state';
    RETURN QUERY EXECUTE
        'SELECT ''step''::text, NULL::text, NULL::text, s.state, true, count(*)
           FROM tasker.workflow_steps s GROUP BY s.state';
    RETURN QUERY EXECUTE
        'WITH recent AS (' || v_recent || ')
         SELECT r.kind, r.namespace, r.name, r.state, false, r.count FROM recent r
         UNION ALL
         SELECT r.kind, r.namespace, r.name, r.state, true, -r.count FROM recent r'
      USING p_to, p_to;
END;
$$;
