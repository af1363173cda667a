-- THE readiness rule, used by the enqueue (enqueue_ready), the recovery sweep
-- (stranded_tasks), task_status and the CLI: a step is ready when it is pending (or waiting
-- for a retry whose backoff has passed), has attempts left, and every parent is satisfied
-- (complete, resolved by hand or skipped), not all of them skipped. A pending step all of
-- whose parents were skipped is to be skipped itself (`skip`; enqueue_ready does it).
-- A fan_out's instances replace their per-element template in the edges, so a step that
-- waited on the template waits on every instance.
-- p_candidates, when given, limits the answer to those steps of the tasks: the result batch
-- asks only about the steps whose parents just changed (enqueue_ready), so a batch costs what
-- it changed, not the size of its tasks (18 ms per batch at 4,000 fan_out instances when every
-- step was evaluated, docs/performance.md). NULL: every step of the tasks. The rule is the
-- same either way; only the rows it is applied to differ.
CREATE OR REPLACE FUNCTION tasker.steps_readiness(p_task_uuids uuid[], p_candidates uuid[] DEFAULT NULL)
RETURNS TABLE (task_uuid uuid, step_uuid uuid, name text, state text, attempts integer,
               max_attempts integer, parents_total integer, parents_done integer, ready boolean,
               skip boolean)
LANGUAGE sql STABLE AS $$
    -- Each step's parents are counted by a lookup of its own edges (LATERAL), never by a join
    -- of the whole edge table: planned as one join, a generic plan made while the tables were
    -- small merged the steps with a full scan of workflow_step_edges' index (171 buffers per
    -- enqueue of one task at 600 edges, growing with the table; docs/performance.md, "Plans").
    SELECT s.task_uuid, s.step_uuid, s.name, s.state, s.attempts, s.max_attempts,
           c.total AS parents_total, c.done AS parents_done,
           (s.state = 'pending'
              OR (s.state = 'waiting_for_retry'
                  AND (s.backoff_until IS NULL OR s.backoff_until <= clock_timestamp())))
           AND s.attempts < s.max_attempts
           AND c.total = c.done
           AND (c.total = 0 OR c.total > c.skipped)
               AS ready,
           s.state = 'pending' AND c.total > 0 AND c.total = c.skipped
               AS skip
    -- The two row sources exclude each other; in a generic plan each is an index scan behind
    -- a one-time test of p_candidates, so only one of them runs.
    FROM (SELECT * FROM tasker.workflow_steps a
           WHERE p_candidates IS NULL AND a.task_uuid = ANY (p_task_uuids)
          UNION ALL
          SELECT * FROM tasker.workflow_steps a
           WHERE p_candidates IS NOT NULL AND a.step_uuid = ANY (p_candidates)
             AND a.task_uuid = ANY (p_task_uuids)) s
    CROSS JOIN LATERAL (
        SELECT count(*)::integer AS total,
               count(*) FILTER (WHERE p.state IN ({{SATISFIED_STEP_STATES}}))::integer AS done,
               count(*) FILTER (WHERE p.state = 'skipped')::integer AS skipped
          FROM tasker.workflow_step_edges e
          JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step
         WHERE e.to_step = s.step_uuid) c
$$;
