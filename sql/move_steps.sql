-- THE step writer: every change of a step's state goes through here, as every change of a
-- task's state goes through transition_tasks (src/store/settle.rs).
--
-- Each move names the step, the state and attempts it was decided from (read under the
-- step's row lock), the state it goes to and why. A move is refused with an error unless the
-- step state machine allows it (tasker.step_state_moves, written by migrate! from
-- StepState::can_transition_to in src/state/step.rs), and it happens only if the step is still
-- in that state at that attempt: a duplicate, late or superseded move changes nothing. The
-- audit row of each move that happened is written in the same statement. Returns the moves
-- that happened.
--
-- What the target state sets besides `state`:
--   enqueued            enqueued_at; no backoff
--   in_progress         one more attempt; started_at; no backoff
--   complete            results, completed_at
--   waiting_for_retry   last_error; backoff_until = now + delay
--   error               last_error, completed_at
--   cancelled           completed_at
--   resolved_manually   results, completed_at; no backoff
--   pending             fresh attempts (0); enqueued_at, started_at, completed_at cleared
CREATE OR REPLACE FUNCTION tasker.move_steps(
    p_steps    uuid[],
    p_from     text[],
    p_attempts integer[],
    p_to       text[],
    p_reasons  text[],
    p_results  jsonb[] DEFAULT NULL,
    p_errors   jsonb[] DEFAULT NULL,
    p_delays   double precision[] DEFAULT NULL,
    p_metadata jsonb[] DEFAULT NULL)
RETURNS TABLE (step_uuid uuid, task_uuid uuid, from_state text, to_state text, attempts integer)
LANGUAGE plpgsql
-- PL/pgSQL plans a statement anew on each call while it judges a custom plan cheaper than the
-- generic one, which it does here: the claim's one-step move took 0.29 ms in the bench's
-- profile, most of it planning. The generic plan is the key lookup of the statement below.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT x.f, x.t INTO v_bad
      FROM unnest(p_from, p_to) AS x(f, t)
     WHERE NOT EXISTS (SELECT 1 FROM tasker.step_state_moves m
                        WHERE m.from_state = x.f AND m.to_state = x.t)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a step cannot move from % to %', quote_nullable(v_bad.f), quote_nullable(v_bad.t)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN QUERY
    WITH x AS (
        SELECT * FROM unnest(p_steps, p_from, p_attempts, p_to, p_reasons, p_results, p_errors,
                             p_delays, p_metadata)
                   AS x(u, from_state, attempts, to_state, reason, results, error, delay, metadata)),
    moved AS (
        UPDATE tasker.workflow_steps s
           SET state = x.to_state,
               attempts = CASE x.to_state WHEN 'in_progress' THEN s.attempts + 1
                                          WHEN 'pending' THEN 0
                                          ELSE s.attempts END,
               results = CASE WHEN x.to_state IN ({{SATISFIED_STEP_STATES}}) THEN x.results
                              ELSE s.results END,
               last_error = CASE WHEN x.to_state IN ('waiting_for_retry', 'error') THEN x.error
                                 ELSE s.last_error END,
               backoff_until = CASE WHEN x.to_state = 'waiting_for_retry'
                                      THEN clock_timestamp() + make_interval(secs => x.delay)
                                    WHEN x.to_state IN ('enqueued', 'in_progress', 'pending',
                                                        'resolved_manually') THEN NULL
                                    ELSE s.backoff_until END,
               enqueued_at = CASE x.to_state WHEN 'enqueued' THEN clock_timestamp()
                                             WHEN 'pending' THEN NULL
                                             ELSE s.enqueued_at END,
               started_at = CASE x.to_state WHEN 'in_progress' THEN clock_timestamp()
                                            WHEN 'pending' THEN NULL
                                            ELSE s.started_at END,
               completed_at = CASE WHEN x.to_state IN ({{FINISHED_STEP_STATES}}) THEN clock_timestamp()
                                   WHEN x.to_state = 'pending' THEN NULL
                                   ELSE s.completed_at END,
               updated_at = clock_timestamp()
          FROM x
         -- `= ANY` makes the plan look the steps up by their primary key: joined to the unnest
         -- alone, the generic plan hashes the unnest against a sequential scan of the whole
         -- table (EXPLAIN of this statement with plan_cache_mode = force_generic_plan).
         WHERE s.step_uuid = ANY (p_steps)
           AND s.step_uuid = x.u AND s.state = x.from_state AND s.attempts = x.attempts
        RETURNING s.step_uuid, s.task_uuid, x.from_state, x.to_state, x.attempts AS before,
                  s.attempts AS after, x.reason, x.metadata),
    audit AS (
        INSERT INTO tasker.step_transitions
               (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
        SELECT moved.step_uuid, moved.task_uuid, moved.from_state, moved.to_state,
               CASE WHEN moved.to_state = 'pending' THEN moved.before ELSE moved.after END,
               moved.reason, COALESCE(moved.metadata, '{}'::jsonb)
          FROM moved)
    SELECT moved.step_uuid, moved.task_uuid, moved.from_state, moved.to_state, moved.after
      FROM moved;
END;
$$;
