//! TaskerCore::Internal::Orchestrator: start, stop and observe this process's orchestrator.

use std::time::Duration;

use magnus::{function, Error as RbError, RHash, RModule, Ruby};

use super::errors::to_ruby;
use super::nogvl::block_on;
use super::{config, define_module};
use crate::orchestration::Orchestrator;
use crate::runtime;

pub fn define(_ruby: &Ruby, internal: &RModule) -> Result<(), RbError> {
    let m = define_module(internal, "Orchestrator")?;
    m.define_module_function("start", function!(start, 1))?;
    m.define_module_function("stop", function!(stop, 1))?;
    m.define_module_function("running?", function!(running, 0))?;
    m.define_module_function("status", function!(status, 0))?;
    Ok(())
}

fn start(ruby: &Ruby, settings: RHash) -> Result<bool, RbError> {
    let cfg = config(ruby, settings)?;
    Orchestrator::start(&cfg).map_err(|e| to_ruby(ruby, e))?;
    Ok(true)
}

/// Stops the loops, waiting up to `timeout` seconds; false if none was running.
fn stop(ruby: &Ruby, timeout: f64) -> Result<bool, RbError> {
    let Some(orchestrator) = runtime::orchestrator() else {
        return Ok(false);
    };
    let timeout = Duration::from_secs_f64(if timeout.is_finite() {
        timeout.max(0.0)
    } else {
        30.0
    });
    let stopped = block_on(ruby, async move { orchestrator.stop(timeout).await })?;
    runtime::set_orchestrator(None).map_err(|e| to_ruby(ruby, e))?;
    Ok(stopped)
}

fn running() -> bool {
    runtime::orchestrator().is_some_and(|o| o.is_running())
}

/// JSON text of the counters, or nil when no orchestrator runs here.
fn status(ruby: &Ruby) -> Result<Option<String>, RbError> {
    runtime::orchestrator()
        .map(|o| o.status_json())
        .transpose()
        .map_err(|e| to_ruby(ruby, e))
}
