-- How long completed steps took (completed_at - started_at: the attempt that completed), per
-- template, over the steps that completed in the last p_window_seconds: count, sum and the
-- 50th, 90th and 99th percentiles, in seconds. TaskerCore.metrics and GET /metrics read it.
-- Cheap whatever the history: step uuids are v7 (time-ordered), so only the steps created in
-- the last p_horizon_seconds are read, by a range of the primary key; a step that completed
-- in the window but was created before the horizon (a long wait for its parents or retries)
-- is left out. EXECUTE: each call is planned with its actual bound, so the range is used;
-- each step's task by its primary key (OFFSET 0 keeps the planner from hashing every task:
-- 350 ms against 20 ms at 250,000 tasks, docs/operations.md#metrics).
CREATE OR REPLACE FUNCTION tasker.step_durations(p_window_seconds double precision,
                                                 p_horizon_seconds double precision)
RETURNS TABLE (namespace text, name text, steps bigint, sum_seconds double precision,
               p50 double precision, p90 double precision, p99 double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_hex text := lpad(to_hex((extract(epoch FROM clock_timestamp()
                                                 - make_interval(secs => p_horizon_seconds)) * 1000)::bigint),
                       12, '0');
    v_floor uuid := (substr(v_hex, 1, 8) || '-' || substr(v_hex, 9, 4) || '-0000-0000-000000000000')::uuid;
BEGIN
    RETURN QUERY EXECUTE
        'WITH recent AS (
             SELECT s.task_uuid, extract(epoch FROM s.completed_at - s.started_at)::float8 AS seconds
               FROM tasker.workflow_steps s
              WHERE s.step_uuid >= $1 AND s.state = ''complete'' AND s.started_at IS NOT NULL
                AND s.completed_at >= clock_timestamp() - make_interval(secs => $2))
         SELECT t.namespace, t.name, count(*), sum(r.seconds),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds),
                percentile_cont(0.9) WITHIN GROUP (ORDER BY r.seconds),
                percentile_cont(0.99) WITHIN GROUP (ORDER BY r.seconds)
           FROM recent r
          CROSS JOIN LATERAL (SELECT t.namespace, t.name FROM tasker.tasks t
                               WHERE t.task_uuid = r.task_uuid OFFSET 0) t
          GROUP BY t.namespace, t.name ORDER BY t.namespace, t.name'
      USING v_floor, p_window_seconds;
END;
$$;
