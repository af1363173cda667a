-- The moves the step state machine allows, as the one step writer (sql/move_steps.sql)
-- checks them. migrate! rewrites the rows from the Rust state machine (src/state/step.rs,
-- StepState::can_transition_to) every time it runs: a copy the database can join, never
-- edited by hand.
CREATE TABLE tasker.step_state_moves (
    from_state text NOT NULL,
    to_state   text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
