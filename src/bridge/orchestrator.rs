//! TaskerCore::Internal::Orchestrator: start, stop and observe this process's orchestrator.

use std::time::Duration;

use magnus::{function, Error as RbError, RHash, RModule, Ruby};

use super::errors::to_ruby;
use super::nogvl::block_on;
use super::{config, define_module};
use crate::config::MAX_SECONDS;
use crate::error::Error;
use crate::orchestration::Orchestrator;
use crate::runtime;

pub fn define(_ruby: &Ruby, internal: &RModule) -> Result<(), RbError> {
    let m = define_module(internal, "Orchestrator")?;
    m.define_module_function("start", function!(start, 1))?;
    m.define_module_function("stop", function!(stop, 1))?;
    m.define_module_function("running?", function!(running, 0))?;
    m.define_module_function("status", function!(status, 0))?;
    m.define_module_function("crash_loop", function!(crash_loop, 1))?;
    Ok(())
}

/// The environment variable that enables the test hooks (a process a spec starts).
const TEST_HOOKS: &str = "TASKER_CORE_TEST_HOOKS";

/// Test hook: makes one of the orchestrator's loops ("results", "requests", "sweep") panic,
/// to check its supervision. Refused unless TASKER_CORE_TEST_HOOKS=1.
fn crash_loop(ruby: &Ruby, name: String) -> Result<bool, RbError> {
    if std::env::var(TEST_HOOKS).as_deref() != Ok("1") {
        let refused = Error::Orchestrator(format!("crash_loop is a test hook: set {TEST_HOOKS}=1"));
        return Err(to_ruby(ruby, refused));
    }
    let Some(orchestrator) = runtime::orchestrator() else {
        return Ok(false);
    };
    orchestrator
        .crash_loop(&name)
        .map_err(|e| to_ruby(ruby, e))?;
    Ok(true)
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
    // Any number is accepted: NaN and infinity mean the default, huge ones a day.
    let timeout = Duration::from_secs_f64(if timeout.is_nan() {
        30.0
    } else {
        timeout.clamp(0.0, MAX_SECONDS)
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
