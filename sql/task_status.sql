-- A task's full status as one JSON document: the task, its step counts, and every step with
-- its state, attempts, readiness (steps_readiness), results (with the metadata its handler
-- attached, from the step's audit trail) and last error, in template order (a fan_out's
-- instances, with their per-element template's name and their index, in element order
-- where the template stood), and `waiting_for` when the task waits for its concurrency key
-- (concurrency_waiting). TaskerCore.task_status, wait_for_task, the dashboard and the CLI
-- read it.
--
-- The dashboard's task page asks for a collapsed form (p_collapse_above set): the instances
-- of a per-element template that has more than p_collapse_above of them are left out of
-- `steps`; `instance_groups` has one summary per such template (instances, counts per
-- state, the instances' depends_on, and `before`: the listed step it stands before, or null
-- at the end), and
-- `instance_page` one page of one of them (p_template, optionally only p_state, in element
-- order from p_offset, at most p_limit) with `total`, the instances that match. The counts
-- and step counts still cover every step; the rest of the work (readiness, results, audit
-- lookups, JSON) follows the steps listed, not the task's size.
CREATE OR REPLACE FUNCTION tasker.task_status(p_task_uuid uuid, p_collapse_above integer DEFAULT NULL,
                                              p_template text DEFAULT NULL, p_state text DEFAULT NULL,
                                              p_offset integer DEFAULT 0, p_limit integer DEFAULT NULL)
RETURNS jsonb
-- No JIT: the planner's estimate for a task of 10,000 steps passes jit_above_cost, and
-- compiling the plan took 2.8 s of a 3.0 s call (the query itself about 0.2 s).
LANGUAGE sql STABLE SET jit = off AS $$
    WITH instance_counts AS (
        SELECT s.element_of AS template, s.state, count(*)::integer AS n,
               min(s.position) AS position
          FROM tasker.workflow_steps s
         WHERE p_collapse_above IS NOT NULL AND s.task_uuid = p_task_uuid AND s.element_of IS NOT NULL
         GROUP BY s.element_of, s.state
    ),
    collapsed AS (
        SELECT template, min(position) AS position, sum(n)::integer AS instances,
               jsonb_object_agg(state, n) AS counts
          FROM instance_counts GROUP BY template
        HAVING sum(n) > p_collapse_above
    ),
    listed AS (
        SELECT s.*, false AS on_page
          FROM tasker.workflow_steps s
         WHERE s.task_uuid = p_task_uuid
           AND (s.element_of IS NULL OR NOT EXISTS (SELECT 1 FROM collapsed c WHERE c.template = s.element_of))
        UNION ALL
        (SELECT s.*, true AS on_page
           FROM tasker.workflow_steps s
          WHERE s.task_uuid = p_task_uuid AND s.element_of = p_template
            AND EXISTS (SELECT 1 FROM collapsed c WHERE c.template = p_template)
            AND (p_state IS NULL OR s.state = p_state)
          ORDER BY s.element_index OFFSET GREATEST(p_offset, 0) LIMIT p_limit)
    ),
    -- The readiness is read once into a map by step and each step finds its own in it: a
    -- join of the task's steps with their readiness, planned before the tables had
    -- statistics, compared every step with every other (3.6 s for a task of 10,000 instances
    -- against 0.44 s once analyzed). In the collapsed form only the listed steps' readiness
    -- is read, found by their uuids.
    readiness AS (
        SELECT COALESCE(
            (SELECT jsonb_object_agg(r.step_uuid::text,
                                     jsonb_build_array(r.ready, r.parents_total, r.parents_done))
               FROM tasker.steps_readiness(ARRAY[p_task_uuid]) r
              WHERE p_collapse_above IS NULL),
            (SELECT jsonb_object_agg(r.step_uuid::text,
                                     jsonb_build_array(r.ready, r.parents_total, r.parents_done))
               FROM tasker.steps_readiness(ARRAY[p_task_uuid]) r
              WHERE p_collapse_above IS NOT NULL
                AND r.step_uuid = ANY (ARRAY(SELECT l.step_uuid FROM listed l)))) AS m
    ),
    steps AS (
        SELECT s.*, (x.r->>0)::boolean AS ready, (x.r->>1)::integer AS parents_total,
               (x.r->>2)::integer AS parents_done
          FROM listed s, readiness,
               LATERAL (SELECT readiness.m->(s.step_uuid::text) AS r) x
    ),
    step_json AS (
        SELECT s.on_page, s.position, s.element_index, jsonb_build_object(
                    'step_uuid', s.step_uuid, 'name', s.name, 'handler', s.handler,
                    'state', s.state, 'attempts', s.attempts, 'max_attempts', s.max_attempts,
                    'retryable', s.retryable, 'ready', s.ready, 'depends_on', to_jsonb(s.depends_on),
                    'type', s.step_type, 'element_of', s.element_of, 'index', s.element_index,
                    'next_retry_at', CASE WHEN s.state = 'waiting_for_retry' THEN s.backoff_until END,
                    'timeout_seconds', s.timeout_seconds, 'config', s.config,
                    'results', s.results, 'last_error', s.last_error,
                    'result_metadata', (SELECT tr.metadata -> 'handler_metadata'
                                          FROM tasker.step_transitions tr
                                         WHERE tr.step_uuid = s.step_uuid AND tr.to_state = 'complete'
                                         ORDER BY tr.id DESC LIMIT 1),
                    'enqueued_at', s.enqueued_at, 'started_at', s.started_at,
                    'completed_at', s.completed_at) AS j
          FROM steps s
    ),
    all_steps AS (
        SELECT s.state FROM tasker.workflow_steps s WHERE s.task_uuid = p_task_uuid
    )
    SELECT jsonb_build_object(
        'task_uuid', t.task_uuid, 'namespace', t.namespace, 'name', t.name,
        'version', t.version, 'state', t.state, 'context', t.context,
        'initiator', t.initiator, 'source_system', t.source_system, 'reason', t.reason,
        'tags', to_jsonb(t.tags), 'priority', t.priority, 'idempotency_key', t.idempotency_key,
        'run_at', t.run_at, 'scheduled', COALESCE(t.run_at > clock_timestamp() AND t.state IN ({{OPEN_TASK_STATES}}), false),
        'concurrency_key', t.concurrency_key,
        'waiting_for', CASE WHEN t.task_uuid = ANY (tasker.concurrency_waiting(ARRAY[t.task_uuid]))
                            THEN format('waiting for concurrency key %s (limit %s)',
                                        t.concurrency_key, t.concurrency_limit) END,
        'created_at', t.created_at, 'updated_at', t.updated_at, 'completed_at', t.completed_at,
        'duration_ms', round(extract(epoch FROM (COALESCE(t.completed_at, clock_timestamp())
                                                  - t.created_at)) * 1000, 3),
        'step_count', (SELECT count(*) FROM all_steps),
        'step_counts', COALESCE((SELECT jsonb_object_agg(state, n)
                                   FROM (SELECT state, count(*) AS n FROM all_steps GROUP BY state) c),
                                '{}'::jsonb),
        'completion_percentage', COALESCE((SELECT round(100.0 * count(*) FILTER (
                                               WHERE state IN ({{SATISFIED_STEP_STATES}}))
                                               / NULLIF(count(*), 0), 1) FROM all_steps), 0),
        'steps', COALESCE((SELECT jsonb_agg(j ORDER BY position, element_index)
                             FROM step_json WHERE NOT on_page), '[]'::jsonb))
    || CASE WHEN p_collapse_above IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
        'instance_groups', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                    'template', c.template, 'instances', c.instances, 'counts', c.counts,
                    'depends_on', (SELECT to_jsonb(s.depends_on) FROM tasker.workflow_steps s
                                    WHERE s.task_uuid = p_task_uuid AND s.element_of = c.template
                                    ORDER BY s.element_index LIMIT 1),
                    'before', (SELECT s.name FROM listed s
                                WHERE NOT s.on_page AND s.position > c.position
                                ORDER BY s.position, s.element_index LIMIT 1))
                    ORDER BY c.position, c.template) FROM collapsed c), '[]'::jsonb),
        'instance_page', (SELECT jsonb_build_object(
                    'template', c.template, 'state', p_state, 'offset', GREATEST(p_offset, 0),
                    'limit', p_limit,
                    'total', CASE WHEN p_state IS NULL THEN c.instances
                                  ELSE COALESCE((c.counts ->> p_state)::integer, 0) END,
                    'steps', COALESCE((SELECT jsonb_agg(j ORDER BY element_index)
                                         FROM step_json WHERE on_page), '[]'::jsonb))
                    FROM collapsed c WHERE c.template = p_template)) END
    FROM tasker.tasks t
    WHERE t.task_uuid = p_task_uuid
$$;
