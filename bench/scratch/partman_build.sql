-- A copy of the 1,000,000-step history in tables partitioned by day on the v7 task uuid
-- (schema p): every row of a task (its steps, edges, transitions) lands in its task's day.
\set ON_ERROR_STOP on
\timing on
CREATE SCHEMA p;
CREATE FUNCTION p.uuid_floor(ts timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-0000-0000-000000000000')::uuid
    FROM (SELECT lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') AS h) x
$$;
CREATE TABLE p.tasks (LIKE tasker.tasks INCLUDING DEFAULTS, PRIMARY KEY (task_uuid)) PARTITION BY RANGE (task_uuid);
CREATE TABLE p.workflow_steps (LIKE tasker.workflow_steps INCLUDING DEFAULTS,
  PRIMARY KEY (step_uuid, task_uuid), UNIQUE (task_uuid, name)) PARTITION BY RANGE (task_uuid);
CREATE TABLE p.workflow_step_edges (LIKE tasker.workflow_step_edges, PRIMARY KEY (from_step, to_step, task_uuid))
  PARTITION BY RANGE (task_uuid);
CREATE TABLE p.task_transitions (LIKE tasker.task_transitions, PRIMARY KEY (id, task_uuid)) PARTITION BY RANGE (task_uuid);
CREATE TABLE p.step_transitions (LIKE tasker.step_transitions, PRIMARY KEY (id, task_uuid)) PARTITION BY RANGE (task_uuid);
CREATE INDEX ON p.tasks (created_at) WHERE state IN ('pending', 'in_progress');
CREATE INDEX ON p.tasks (namespace, name, created_at DESC);
CREATE INDEX ON p.tasks (created_at, task_uuid);
CREATE INDEX ON p.tasks (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX ON p.workflow_step_edges (to_step);
CREATE INDEX ON p.task_transitions (task_uuid, id);
CREATE INDEX ON p.step_transitions (step_uuid, id);
CREATE INDEX ON p.step_transitions (task_uuid);
DO $$
DECLARE d date; t text;
BEGIN
  FOR d IN SELECT generate_series((now() - interval '31 days')::date, (now() + interval '2 days')::date, interval '1 day')::date LOOP
    FOREACH t IN ARRAY ARRAY['tasks', 'workflow_steps', 'workflow_step_edges', 'task_transitions', 'step_transitions'] LOOP
      EXECUTE format('CREATE TABLE p.%I PARTITION OF p.%I FOR VALUES FROM (%L) TO (%L)',
                     t || '_' || to_char(d, 'YYYYMMDD'), t, p.uuid_floor(d), p.uuid_floor(d + 1));
    END LOOP;
  END LOOP;
END $$;
INSERT INTO p.tasks SELECT * FROM tasker.tasks;
INSERT INTO p.workflow_steps SELECT * FROM tasker.workflow_steps;
INSERT INTO p.workflow_step_edges SELECT * FROM tasker.workflow_step_edges;
INSERT INTO p.task_transitions SELECT * FROM tasker.task_transitions;
INSERT INTO p.step_transitions SELECT * FROM tasker.step_transitions;
VACUUM ANALYZE p.tasks, p.workflow_steps, p.workflow_step_edges, p.task_transitions, p.step_transitions;
