//! tasker_core: the Rust core of the tasker-core gem. It turns task requests into steps,
//! decides which steps are ready and enqueues them to per-namespace pgmq queues, applies
//! the results Ruby workers send back, and finishes tasks.

pub mod bridge;
pub mod config;
pub mod error;
pub mod events;
pub mod messaging;
pub mod orchestration;
pub mod runtime;
pub mod schedules;
pub mod state;
pub mod store;
pub mod templates;

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    bridge::init(ruby)
}
