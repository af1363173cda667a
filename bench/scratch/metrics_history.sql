-- 1,000,000 finished steps as bench/lib/bench/sections/history.rb builds them (250,000 linear
-- tasks of 4 steps, completed 30 to 1 days ago), plus 7,000 tasks (28,000 steps) completed in
-- the last hour and 100 unfinished tasks with steps in every unfinished state.
\set ON_ERROR_STOP on
SET session_replication_role = replica;
SET maintenance_work_mem = '256MB';
INSERT INTO tasker.namespaces (name) VALUES ('bench_history') ON CONFLICT DO NOTHING;
INSERT INTO tasker.named_tasks (namespace, name, version, template)
VALUES ('bench_history', 'filler', '1.0.0', '{}') ON CONFLICT DO NOTHING;
CREATE FUNCTION pg_temp.v7(ts timestamptz, seed bigint, salt integer) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' ||
          substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid
    FROM (SELECT md5(seed::text || ':' || salt::text) AS h) x
$$;
CREATE TEMP TABLE filler AS
SELECT i, ts, pg_temp.v7(ts, i, 0) AS task_uuid, pg_temp.v7(ts, i, 1) AS s1, pg_temp.v7(ts, i, 2) AS s2,
       pg_temp.v7(ts, i, 3) AS s3, pg_temp.v7(ts, i, 4) AS s4, 'complete'::text AS state
  FROM (SELECT i, now() - interval '30 days' + (i * (interval '29 days' / 250000)) AS ts
          FROM generate_series(1, 250000) i
        UNION ALL
        SELECT i, now() - interval '1 hour' + ((i - 250000) * (interval '58 minutes' / 7000))
          FROM generate_series(250001, 257000) i) g;
INSERT INTO filler
SELECT i, ts, pg_temp.v7(ts, i, 0), pg_temp.v7(ts, i, 1), pg_temp.v7(ts, i, 2), pg_temp.v7(ts, i, 3),
       pg_temp.v7(ts, i, 4), 'in_progress'
  FROM (SELECT i, now() - interval '1 minute' + ((i - 257000) * interval '100 ms') AS ts
          FROM generate_series(257001, 257100) i) g;
\timing on
INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state, context,
                          initiator, source_system, reason, created_at, updated_at, completed_at)
SELECT task_uuid, (SELECT named_task_id FROM tasker.named_tasks WHERE namespace = 'bench_history'),
       'bench_history', 'filler', '1.0.0', state, jsonb_build_object('even_number', 2, 'i', i),
       'bench', 'bench', 'history', ts, ts + interval '40 ms',
       CASE WHEN state = 'complete' THEN ts + interval '40 ms' END
  FROM filler;
INSERT INTO tasker.workflow_steps (step_uuid, task_uuid, name, position, handler, state, attempts,
                                   results, enqueued_at, started_at, completed_at, created_at, updated_at)
SELECT (ARRAY[s1, s2, s3, s4])[p], task_uuid, 'step_' || p, p - 1,
       'LinearWorkflow::StepHandlers::SquareParents',
       CASE WHEN state = 'complete' THEN 'complete'
            ELSE (ARRAY['complete', 'in_progress', 'pending', 'pending'])[p] END, 1, to_jsonb(4),
       ts + p * interval '10 ms', ts + p * interval '10 ms' + interval '2 ms',
       ts + p * interval '10 ms' + interval '3 ms', ts, ts + p * interval '10 ms' + interval '3 ms'
  FROM filler, generate_series(1, 4) p;
INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
SELECT task_uuid, (ARRAY[s1, s2, s3])[p], (ARRAY[s2, s3, s4])[p]
  FROM filler, generate_series(1, 3) p;
INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason,
                                     metadata, created_at)
SELECT (ARRAY[s1, s2, s3, s4])[p], task_uuid, (ARRAY[NULL, 'pending', 'enqueued', 'in_progress'])[k + 1],
       (ARRAY['pending', 'enqueued', 'in_progress', 'complete'])[k + 1], CASE WHEN k >= 2 THEN 1 ELSE 0 END,
       (ARRAY['created', 'ready', 'claimed', 'step succeeded'])[k + 1],
       CASE WHEN k = 3 THEN '{"duration_ms": 0.05, "worker": {"id": "bench"}}'::jsonb ELSE '{}'::jsonb END,
       ts + p * interval '10 ms' + k * interval '1 ms'
  FROM filler, generate_series(1, 4) p, generate_series(1, 3) k;
INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason, created_at)
SELECT task_uuid, (ARRAY[NULL, 'pending', 'in_progress'])[k + 1],
       (ARRAY['pending', 'in_progress', 'complete'])[k + 1], 'history', ts + k * interval '20 ms'
  FROM filler, generate_series(0, 2) k;
RESET session_replication_role;
VACUUM ANALYZE tasker.tasks, tasker.workflow_steps, tasker.workflow_step_edges,
               tasker.step_transitions, tasker.task_transitions;
