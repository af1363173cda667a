-- The direct dependents of these steps (an empty Array when they have none), by the edges'
-- primary key (from_step, to_step). enqueue_ready asks readiness about them after their
-- parents changed. PL/pgSQL, not SQL: a SQL function with a FROM clause is never inlined into
-- its caller, and is parsed and planned again in every transaction (docs/performance.md,
-- "Plans"); PL/pgSQL keeps its plan per connection.
CREATE OR REPLACE FUNCTION tasker.step_children(p_steps uuid[])
RETURNS uuid[]
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN (SELECT COALESCE(array_agg(e.to_step), '{}'::uuid[])
              FROM tasker.workflow_step_edges e
             WHERE e.from_step = ANY (p_steps));
END;
$$;
