//! The process's tokio runtime and database clients, rebuilt after a fork.
//!
//! A forked child inherits the parent's memory but none of its threads: the parent's
//! runtime and pools are dead there. They are never dropped in the child (dropping would
//! wait on threads that do not exist); they are leaked and replaced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::PgPool;
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::orchestration::waiter::FinishHub;
use crate::orchestration::Orchestrator;
use crate::store::pool;

/// One database: its validated configuration, a pool, and the hub that tells waiters
/// when tasks finish.
pub struct Client {
    pub config: Config,
    pub pool: PgPool,
    pub finished: FinishHub,
}

struct Global {
    pid: u32,
    runtime: &'static Runtime,
    clients: HashMap<(String, u32), Arc<Client>>,
    orchestrator: Option<Arc<Orchestrator>>,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<Global>> {
    GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn current(slot: &mut Option<Global>) -> Result<&mut Global> {
    let pid = std::process::id();
    if slot.as_ref().is_some_and(|g| g.pid != pid) {
        // Forked: leak the parent's runtime, pools and orchestrator handle.
        if let Some(stale) = slot.take() {
            std::mem::forget(stale);
        }
    }
    if slot.is_none() {
        let threads = std::env::var("TASKER_RUNTIME_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(2);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("tasker-core")
            .enable_all()
            .build()
            .map_err(|e| Error::Orchestrator(format!("cannot start the tokio runtime: {e}")))?;
        *slot = Some(Global {
            pid,
            runtime: Box::leak(Box::new(runtime)),
            clients: HashMap::new(),
            orchestrator: None,
        });
    }
    slot.as_mut()
        .ok_or_else(|| Error::Orchestrator("runtime state missing".into()))
}

pub fn runtime() -> Result<&'static Runtime> {
    let mut slot = lock();
    Ok(current(&mut slot)?.runtime)
}

/// The shared client for this configuration's database (one pool per URL and size).
pub fn client(config: &Config) -> Result<Arc<Client>> {
    config.validate()?;
    let mut slot = lock();
    let global = current(&mut slot)?;
    let key = (config.database_url.clone(), config.pool_size);
    if let Some(c) = global.clients.get(&key) {
        return Ok(c.clone());
    }
    let _guard = global.runtime.enter();
    let client = Arc::new(Client {
        config: config.clone(),
        pool: pool::build(config, config.pool_size)?,
        finished: FinishHub::default(),
    });
    global.clients.insert(key, client.clone());
    Ok(client)
}

/// The orchestrator running in this process (not one inherited across a fork).
pub fn orchestrator() -> Option<Arc<Orchestrator>> {
    let mut slot = lock();
    current(&mut slot).ok()?.orchestrator.clone()
}

pub fn set_orchestrator(orchestrator: Option<Arc<Orchestrator>>) -> Result<()> {
    let mut slot = lock();
    current(&mut slot)?.orchestrator = orchestrator;
    Ok(())
}
