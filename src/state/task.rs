use std::fmt;
use std::str::FromStr;

use super::step::StepState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    Pending,
    InProgress,
    Complete,
    Error,
    Cancelled,
    ResolvedManually,
}

impl TaskState {
    pub const ALL: [TaskState; 6] = [
        TaskState::Pending,
        TaskState::InProgress,
        TaskState::Complete,
        TaskState::Error,
        TaskState::Cancelled,
        TaskState::ResolvedManually,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::InProgress => "in_progress",
            TaskState::Complete => "complete",
            TaskState::Error => "error",
            TaskState::Cancelled => "cancelled",
            TaskState::ResolvedManually => "resolved_manually",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Complete | TaskState::Cancelled | TaskState::ResolvedManually
        )
    }

    /// Finished for now: terminal, or in error (an operator may still retry it).
    pub fn is_finished(self) -> bool {
        self.is_terminal() || self == TaskState::Error
    }

    pub fn can_transition_to(self, to: TaskState) -> bool {
        use TaskState::*;
        matches!(
            (self, to),
            (Pending, InProgress)
                | (Pending | InProgress, Complete | Error)
                | (Pending | InProgress | Error, Cancelled | ResolvedManually)
                | (Error, InProgress)
                // a retried task with a concurrency key waits for its key again
                | (Error, Pending)
        )
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown task state {s:?}"))
    }
}

/// How many steps of a task are in each state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepCounts {
    counts: [i64; StepState::ALL.len()],
}

impl StepCounts {
    pub fn add(&mut self, state: StepState, n: i64) {
        self.counts[Self::slot(state)] += n;
    }

    pub fn get(&self, state: StepState) -> i64 {
        self.counts[Self::slot(state)]
    }

    fn slot(state: StepState) -> usize {
        StepState::ALL.iter().position(|s| *s == state).unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }

    fn sum(&self, pred: impl Fn(StepState) -> bool) -> i64 {
        StepState::ALL
            .into_iter()
            .filter(|s| pred(*s))
            .map(|s| self.get(s))
            .sum()
    }
}

/// Where a running task stands once ready steps have been enqueued: the state it should
/// move to, or None to stay as it is. Called with the task row locked.
pub fn settle(current: TaskState, counts: &StepCounts) -> Option<TaskState> {
    if current.is_finished() && current != TaskState::Error {
        return None;
    }
    let total = counts.total();
    let satisfied = counts.sum(StepState::is_satisfied);
    let active = counts.sum(StepState::is_active);
    let target = if total > 0 && satisfied == total {
        TaskState::Complete
    } else if active == 0 && counts.get(StepState::Error) > 0 {
        // Nothing is in flight and the pending rest hangs off a failed step.
        TaskState::Error
    } else if active > 0 || (counts.get(StepState::Pending) > 0 && current != TaskState::Pending) {
        // A task that has not started stays pending until a step is out (it may be waiting
        // for its concurrency key).
        TaskState::InProgress
    } else {
        return None;
    };
    (target != current && current.can_transition_to(target)).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState::*;

    fn counts(pairs: &[(StepState, i64)]) -> StepCounts {
        let mut c = StepCounts::default();
        for (s, n) in pairs {
            c.add(*s, *n);
        }
        c
    }

    #[test]
    fn task_transitions() {
        let allowed = [
            (Pending, InProgress),
            (Pending, Complete),
            (Pending, Error),
            (InProgress, Complete),
            (InProgress, Error),
            (Pending, Cancelled),
            (InProgress, Cancelled),
            (Error, Cancelled),
            (Pending, ResolvedManually),
            (InProgress, ResolvedManually),
            (Error, ResolvedManually),
            (Error, InProgress),
            (Error, Pending),
        ];
        for from in TaskState::ALL {
            for to in TaskState::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn completes_when_every_step_is_satisfied() {
        let c = counts(&[(StepState::Complete, 3), (StepState::ResolvedManually, 1)]);
        assert_eq!(settle(InProgress, &c), Some(Complete));
        assert_eq!(settle(Complete, &c), None);
    }

    #[test]
    fn errors_only_when_nothing_else_can_run() {
        let running = counts(&[(StepState::Error, 1), (StepState::InProgress, 1)]);
        assert_eq!(settle(InProgress, &running), None);
        let blocked = counts(&[(StepState::Error, 1), (StepState::Pending, 2)]);
        assert_eq!(settle(InProgress, &blocked), Some(Error));
        let retrying = counts(&[(StepState::Error, 1), (StepState::WaitingForRetry, 1)]);
        assert_eq!(settle(InProgress, &retrying), None);
    }

    #[test]
    fn stays_pending_until_a_step_is_out() {
        let waiting = counts(&[(StepState::Pending, 2)]);
        assert_eq!(settle(Pending, &waiting), None);
        assert_eq!(settle(InProgress, &waiting), None);
    }

    #[test]
    fn starts_when_work_is_out() {
        let c = counts(&[(StepState::Enqueued, 1), (StepState::Pending, 3)]);
        assert_eq!(settle(Pending, &c), Some(InProgress));
        assert_eq!(settle(InProgress, &c), None);
        assert_eq!(settle(Cancelled, &c), None);
    }
}
