//! The embedded orchestrator: consumes results and task requests, sweeps for stranded
//! work, and tells waiters when tasks finish.

pub mod backoff;
mod consumer;
mod orchestrator;
mod scheduler;
mod supervisor;
mod sweep;
pub mod waiter;

pub use orchestrator::{Orchestrator, Stats};
