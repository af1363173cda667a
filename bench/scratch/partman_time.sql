-- pg_partman managing tasks by created_at (daily), the only kind of key it takes besides
-- integers: the primary key must then include created_at, and a lookup by uuid alone cannot prune.
\set ON_ERROR_STOP on
\timing on
CREATE TABLE p.tasks_by_time (LIKE tasker.tasks INCLUDING DEFAULTS, PRIMARY KEY (task_uuid, created_at))
  PARTITION BY RANGE (created_at);
SELECT partman.create_parent('p.tasks_by_time', 'created_at', 'native', 'daily',
                             p_start_partition => (now() - interval '31 days')::date::text, p_premake => 2);
INSERT INTO p.tasks_by_time SELECT * FROM tasker.tasks;
VACUUM ANALYZE p.tasks_by_time;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'p.tasks_by_time'::regclass;
UPDATE partman.part_config SET retention = '27 days', retention_keep_table = false
 WHERE parent_table = 'p.tasks_by_time';
SELECT count(*) AS rows_to_drop FROM p.tasks_by_time WHERE created_at < (now() - interval '27 days')::date;
SELECT partman.run_maintenance('p.tasks_by_time');
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'p.tasks_by_time'::regclass;
\timing off
CREATE OR REPLACE FUNCTION pg_temp.us_time() RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r record; started timestamptz; best numeric; run int; x text;
BEGIN
  FOR run IN 1..3 LOOP
    started := clock_timestamp();
    FOR r IN SELECT task_uuid FROM sample LOOP
      SELECT state INTO x FROM p.tasks_by_time WHERE task_uuid = r.task_uuid;
    END LOOP;
    best := least(best, extract(epoch FROM clock_timestamp() - started) * 1e6 / 10000);
  END LOOP;
  RETURN round(best, 1);
END $$;
SELECT pg_temp.us_time() AS task_by_uuid_microseconds;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.us_time() AS task_by_uuid_microseconds_generic;
