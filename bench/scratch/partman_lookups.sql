-- Per-statement cost of the hot path's key lookups, plain against partitioned (schema p), in a
-- PL/pgSQL loop over 10,000 sampled uuids (cached plans, as prepared statements get), with
-- plan_cache_mode auto (PostgreSQL's choice) and force_generic_plan. Best of three runs, in
-- microseconds per statement; updates rolled back.
\set ON_ERROR_STOP on
CREATE TABLE IF NOT EXISTS sample AS
SELECT row_number() OVER () AS i, task_uuid, step_uuid
  FROM (SELECT task_uuid, step_uuid FROM p.workflow_steps ORDER BY random() LIMIT 10000) x;
CREATE OR REPLACE FUNCTION pg_temp.us(kind text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r record; started timestamptz; best numeric; run int; x text;
BEGIN
  FOR run IN 1..3 LOOP
    started := clock_timestamp();
    FOR r IN SELECT task_uuid, step_uuid FROM sample LOOP
      CASE kind
        WHEN 'task plain' THEN SELECT state INTO x FROM tasker.tasks WHERE task_uuid = r.task_uuid;
        WHEN 'task partitioned' THEN SELECT state INTO x FROM p.tasks WHERE task_uuid = r.task_uuid;
        WHEN 'step plain' THEN SELECT state INTO x FROM tasker.workflow_steps WHERE step_uuid = r.step_uuid;
        WHEN 'step partitioned, step uuid only' THEN SELECT state INTO x FROM p.workflow_steps WHERE step_uuid = r.step_uuid;
        WHEN 'step partitioned, with task uuid' THEN SELECT state INTO x FROM p.workflow_steps WHERE step_uuid = r.step_uuid AND task_uuid = r.task_uuid;
        WHEN 'update step plain' THEN UPDATE tasker.workflow_steps SET attempts = attempts WHERE step_uuid = r.step_uuid;
        WHEN 'update step partitioned, step uuid only' THEN UPDATE p.workflow_steps SET attempts = attempts WHERE step_uuid = r.step_uuid;
        WHEN 'update step partitioned, with task uuid' THEN UPDATE p.workflow_steps SET attempts = attempts WHERE step_uuid = r.step_uuid AND task_uuid = r.task_uuid;
        WHEN 'empty loop' THEN x := r.task_uuid::text;
      END CASE;
    END LOOP;
    best := least(best, extract(epoch FROM clock_timestamp() - started) * 1e6 / 10000);
  END LOOP;
  RETURN round(best, 1);
END $$;
SELECT current_setting('plan_cache_mode') AS mode, k AS statement, pg_temp.us(k) AS microseconds
  FROM unnest(ARRAY['empty loop', 'task plain', 'task partitioned', 'step plain', 'step partitioned, step uuid only',
                    'step partitioned, with task uuid']) k;
BEGIN;
SELECT current_setting('plan_cache_mode') AS mode, k AS statement, pg_temp.us(k) AS microseconds
  FROM unnest(ARRAY['update step plain', 'update step partitioned, step uuid only',
                    'update step partitioned, with task uuid']) k;
ROLLBACK;
SET plan_cache_mode = force_generic_plan;
SELECT current_setting('plan_cache_mode') AS mode, k AS statement, pg_temp.us(k) AS microseconds
  FROM unnest(ARRAY['empty loop', 'task plain', 'task partitioned', 'step plain', 'step partitioned, step uuid only',
                    'step partitioned, with task uuid']) k;
BEGIN;
SELECT current_setting('plan_cache_mode') AS mode, k AS statement, pg_temp.us(k) AS microseconds
  FROM unnest(ARRAY['update step plain', 'update step partitioned, step uuid only',
                    'update step partitioned, with task uuid']) k;
ROLLBACK;
