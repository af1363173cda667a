//! TaskerCore::Internal::Events: the Ruby pump's side of the event queue.

use std::time::Duration;

use magnus::{function, Error as RbError, RArray, RModule, Ruby};

use super::define_module;
use super::nogvl::block_on;
use crate::events;

pub fn define(_ruby: &Ruby, internal: &RModule) -> Result<(), RbError> {
    let m = define_module(internal, "Events")?;
    m.define_module_function("attach", function!(attach, 1))?;
    m.define_module_function("next_batch", function!(next_batch, 1))?;
    m.define_module_function("dropped", function!(events::dropped, 0))?;
    Ok(())
}

/// true: queue logs and events for Ruby; false: logs back to stderr, events dropped.
fn attach(on: bool) -> bool {
    events::attach(on);
    on
}

/// JSON texts of the events queued so far, waiting up to `timeout` seconds for the first.
fn next_batch(ruby: &Ruby, timeout: f64) -> Result<RArray, RbError> {
    let wait = Duration::from_secs_f64(if timeout.is_finite() {
        timeout.clamp(0.0, 60.0)
    } else {
        1.0
    });
    let batch = block_on(ruby, events::next_batch(wait))?;
    Ok(ruby.ary_from_vec(batch))
}
