//! Queue names and the messages that travel through them.

pub mod messages;
pub mod queue;

pub use messages::{StepResult, StepResultStatus, TaskRequest};
pub use queue::{
    QueueMessage, CLAIM_INLINE_RESULT_BYTES, RESULTS_QUEUE, TASK_FINISHED_CHANNEL,
    TASK_REQUESTS_QUEUE,
};

#[cfg(test)]
mod fuzz;
