//! Task and step state machines: pure functions, applied under the current state in SQL.

pub mod step;
pub mod task;

pub use step::{ResultOutcome, StepState};
pub use task::{StepCounts, TaskState};
