use std::fmt;
use std::str::FromStr;

use crate::messaging::messages::{StepResult, StepResultStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepState {
    Pending,
    Enqueued,
    InProgress,
    Complete,
    WaitingForRetry,
    Error,
    Cancelled,
    ResolvedManually,
    /// Not run: a decision did not choose it, or every parent was skipped.
    Skipped,
}

impl StepState {
    pub const ALL: [StepState; 9] = [
        StepState::Pending,
        StepState::Enqueued,
        StepState::InProgress,
        StepState::Complete,
        StepState::WaitingForRetry,
        StepState::Error,
        StepState::Cancelled,
        StepState::ResolvedManually,
        StepState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Enqueued => "enqueued",
            StepState::InProgress => "in_progress",
            StepState::Complete => "complete",
            StepState::WaitingForRetry => "waiting_for_retry",
            StepState::Error => "error",
            StepState::Cancelled => "cancelled",
            StepState::ResolvedManually => "resolved_manually",
            StepState::Skipped => "skipped",
        }
    }

    /// Satisfies dependents (and counts as done for the task).
    pub fn is_satisfied(self) -> bool {
        matches!(
            self,
            StepState::Complete | StepState::ResolvedManually | StepState::Skipped
        )
    }

    /// Nothing will move this step again (short of an operator's retry).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StepState::Complete
                | StepState::Error
                | StepState::Cancelled
                | StepState::ResolvedManually
                | StepState::Skipped
        )
    }

    /// A message for this step is in a queue or a worker holds it.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            StepState::Enqueued | StepState::InProgress | StepState::WaitingForRetry
        )
    }

    /// The transitions the engine allows. Everything else is refused.
    pub fn can_transition_to(self, to: StepState) -> bool {
        use StepState::*;
        match (self, to) {
            (Pending, Enqueued) => true,
            // the recovery sweep sends again the message of a step whose message was lost
            (Enqueued | InProgress | WaitingForRetry, Enqueued) => true,
            (Enqueued | WaitingForRetry, InProgress) => true,
            // a redelivered message after the claimant's visibility timeout
            (InProgress, InProgress) => true,
            (InProgress, Complete | WaitingForRetry | Error) => true,
            // operator controls
            (Pending | Enqueued | InProgress | WaitingForRetry, Cancelled) => true,
            (Error | Cancelled, Pending) => true,
            // a decision's unchosen branch, or a step whose parents were all skipped; only a
            // step that never ran is skipped, and nothing moves a skipped step again
            (Pending, Skipped) => true,
            (from, ResolvedManually) => !from.is_satisfied(),
            _ => false,
        }
    }
}

impl fmt::Display for StepState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown step state {s:?}"))
    }
}

/// A step as the result processor sees it, locked in its transaction.
#[derive(Debug, Clone, Copy)]
pub struct StepSnapshot {
    pub state: StepState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub retryable: bool,
}

impl StepSnapshot {
    /// The step once this outcome is applied: what a later result for the same step, in the
    /// same batch, finds.
    pub fn after(self, outcome: &ResultOutcome) -> StepSnapshot {
        let state = match outcome {
            ResultOutcome::Complete => StepState::Complete,
            ResultOutcome::Retry { .. } => StepState::WaitingForRetry,
            ResultOutcome::Fail { .. } => StepState::Error,
            ResultOutcome::Ignore(_) => self.state,
        };
        StepSnapshot { state, ..self }
    }
}

/// What a worker's result does to the step.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultOutcome {
    Complete,
    /// Retryable failure with attempts left; the next attempt is the given one.
    Retry {
        next_attempt: i32,
    },
    /// Permanent failure, or the last attempt failed.
    Fail {
        exhausted: bool,
    },
    /// Duplicate, late or superseded: changes nothing.
    Ignore(String),
}

pub fn apply_result(step: StepSnapshot, result: &StepResult) -> ResultOutcome {
    if result.poison {
        return if step.state.is_active() {
            ResultOutcome::Fail { exhausted: false }
        } else {
            ResultOutcome::Ignore(format!("poison report for a step that is {}", step.state))
        };
    }
    if step.state != StepState::InProgress {
        return ResultOutcome::Ignore(format!(
            "step is {} (result for attempt {})",
            step.state, result.attempt
        ));
    }
    if step.attempts != result.attempt {
        return ResultOutcome::Ignore(format!(
            "result is for attempt {} but the step is on attempt {}",
            result.attempt, step.attempts
        ));
    }
    match result.status {
        StepResultStatus::Success => ResultOutcome::Complete,
        StepResultStatus::Failure => {
            let wants_retry = step.retryable && result.error.as_ref().is_some_and(|e| e.retryable);
            if wants_retry && step.attempts < step.max_attempts {
                ResultOutcome::Retry {
                    next_attempt: step.attempts + 1,
                }
            } else {
                ResultOutcome::Fail {
                    exhausted: wants_retry,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepState::*;

    #[test]
    fn every_transition_is_listed() {
        let allowed = [
            (Pending, Enqueued),
            (Enqueued, Enqueued),
            (InProgress, Enqueued),
            (WaitingForRetry, Enqueued),
            (Enqueued, InProgress),
            (WaitingForRetry, InProgress),
            (InProgress, InProgress),
            (InProgress, Complete),
            (InProgress, WaitingForRetry),
            (InProgress, Error),
            (Pending, Cancelled),
            (Enqueued, Cancelled),
            (InProgress, Cancelled),
            (WaitingForRetry, Cancelled),
            (Error, Pending),
            (Cancelled, Pending),
            (Pending, ResolvedManually),
            (Enqueued, ResolvedManually),
            (InProgress, ResolvedManually),
            (WaitingForRetry, ResolvedManually),
            (Error, ResolvedManually),
            (Cancelled, ResolvedManually),
            (Pending, Skipped),
        ];
        for from in StepState::ALL {
            for to in StepState::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn states_round_trip_through_text() {
        for s in StepState::ALL {
            assert_eq!(s.as_str().parse::<StepState>().unwrap(), s);
        }
        assert!("running".parse::<StepState>().is_err());
    }

    fn result(attempt: i32, ok: bool, retryable: bool) -> StepResult {
        let body = if ok {
            format!(
                r#"{{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":{attempt},"status":"success","result":1}}"#
            )
        } else {
            format!(
                r#"{{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":{attempt},"status":"failure","error":{{"message":"x","retryable":{retryable}}}}}"#
            )
        };
        StepResult::parse(&body).unwrap()
    }

    fn snap(state: StepState, attempts: i32, max: i32) -> StepSnapshot {
        StepSnapshot {
            state,
            attempts,
            max_attempts: max,
            retryable: true,
        }
    }

    #[test]
    fn success_completes_only_the_current_attempt() {
        assert_eq!(
            apply_result(snap(InProgress, 1, 3), &result(1, true, true)),
            ResultOutcome::Complete
        );
        assert!(matches!(
            apply_result(snap(InProgress, 2, 3), &result(1, true, true)),
            ResultOutcome::Ignore(_)
        ));
        assert!(matches!(
            apply_result(snap(Complete, 1, 3), &result(1, true, true)),
            ResultOutcome::Ignore(_)
        ));
    }

    #[test]
    fn poison_fails_any_active_step_once() {
        let mut poison = result(1, false, true);
        poison.poison = true;
        for state in [Enqueued, InProgress, WaitingForRetry] {
            assert_eq!(
                apply_result(snap(state, 0, 3), &poison),
                ResultOutcome::Fail { exhausted: false }
            );
        }
        assert!(matches!(
            apply_result(snap(Error, 1, 3), &poison),
            ResultOutcome::Ignore(_)
        ));
    }

    #[test]
    fn failures_retry_until_attempts_run_out() {
        assert_eq!(
            apply_result(snap(InProgress, 1, 3), &result(1, false, true)),
            ResultOutcome::Retry { next_attempt: 2 }
        );
        assert_eq!(
            apply_result(snap(InProgress, 3, 3), &result(3, false, true)),
            ResultOutcome::Fail { exhausted: true }
        );
        assert_eq!(
            apply_result(snap(InProgress, 1, 3), &result(1, false, false)),
            ResultOutcome::Fail { exhausted: false }
        );
        let mut not_retryable = snap(InProgress, 1, 3);
        not_retryable.retryable = false;
        assert_eq!(
            apply_result(not_retryable, &result(1, false, true)),
            ResultOutcome::Fail { exhausted: false }
        );
    }

    #[test]
    fn a_result_sees_the_one_before_it_in_the_same_batch() {
        let first = snap(InProgress, 1, 3);
        let ok = result(1, true, true);
        let outcome = apply_result(first, &ok);
        let after = first.after(&outcome);
        assert_eq!(after.state, Complete);
        assert!(matches!(apply_result(after, &ok), ResultOutcome::Ignore(_)));

        let failed = first.after(&apply_result(first, &result(1, false, true)));
        assert_eq!(failed.state, WaitingForRetry);
        assert!(matches!(
            apply_result(failed, &ok),
            ResultOutcome::Ignore(_)
        ));

        let last = snap(InProgress, 3, 3);
        assert_eq!(
            last.after(&apply_result(last, &result(3, false, true)))
                .state,
            Error
        );
        let ignored = snap(Cancelled, 1, 3);
        assert_eq!(ignored.after(&apply_result(ignored, &ok)).state, Cancelled);
    }
}
