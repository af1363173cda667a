//! Supervision of the orchestrator's loops. Each loop runs as a task of its own; when it
//! ends while the orchestrator is not stopping (a panic, or an early return), the death is
//! logged and counted and the loop is started again after a short backoff. A loop that
//! dies MAX_RESTARTS times within RESTART_WINDOW is not restarted: the orchestrator stops
//! all its loops and reports itself not running, with the reason in `last_error`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinError, JoinHandle};
use tracing::error;

use super::orchestrator::Stats;

pub const MAX_RESTARTS: usize = 5;
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// What the supervisors share: the stop switch, the counters, and the test hooks.
pub struct Supervision {
    pub shutdown: watch::Sender<bool>,
    pub stats: Arc<Stats>,
    crash_hooks: Mutex<HashMap<&'static str, Arc<Notify>>>,
}

impl Supervision {
    pub fn new(shutdown: watch::Sender<bool>, stats: Arc<Stats>) -> Arc<Self> {
        Arc::new(Supervision {
            shutdown,
            stats,
            crash_hooks: Mutex::new(HashMap::new()),
        })
    }

    fn hook(&self, name: &'static str) -> Arc<Notify> {
        let mut hooks = self
            .crash_hooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        hooks.entry(name).or_default().clone()
    }

    /// The loops that can be crashed (test hook), by name.
    pub fn loop_names(&self) -> Vec<&'static str> {
        let hooks = self
            .crash_hooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut names: Vec<_> = hooks.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Test hook: makes the named loop panic now. False if there is no such loop.
    pub fn crash(&self, name: &str) -> bool {
        let hooks = self
            .crash_hooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match hooks.get(name) {
            Some(hook) => {
                hook.notify_one();
                true
            }
            None => false,
        }
    }

    /// Spawns the loop `make` builds, and builds it again each time it dies.
    pub fn spawn<F, Fut>(
        self: &Arc<Self>,
        rt: &Runtime,
        name: &'static str,
        make: F,
    ) -> JoinHandle<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hook = self.hook(name);
        let supervision = self.clone();
        rt.spawn(async move {
            let mut deaths: VecDeque<Instant> = VecDeque::new();
            let mut shutdown = supervision.shutdown.subscribe();
            loop {
                let run = make();
                let hook = hook.clone();
                let outcome = tokio::spawn(async move {
                    tokio::select! {
                        _ = run => {}
                        _ = hook.notified() => panic!("crashed on purpose (test hook)"),
                    }
                })
                .await;
                if *shutdown.borrow() {
                    return;
                }
                let why = describe(outcome);
                let now = Instant::now();
                deaths.push_back(now);
                while deaths
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > RESTART_WINDOW)
                {
                    deaths.pop_front();
                }
                if !supervision.died(name, &why, deaths.len()) {
                    return;
                }
                let backoff = Duration::from_millis(100) * (1 << deaths.len().min(5));
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
        })
    }

    /// Records a death; true if the loop is to be restarted.
    fn died(&self, name: &str, why: &str, recent: usize) -> bool {
        let stats = &self.stats;
        stats.errors.fetch_add(1, Ordering::Relaxed);
        if recent > MAX_RESTARTS {
            let message = format!(
                "orchestrator loop {name} died {recent} times within {}s ({why}); \
                 the orchestrator stopped",
                RESTART_WINDOW.as_secs()
            );
            error!(loop_name = name, "{message}");
            stats.fail(&message);
            self.shutdown.send_replace(true);
            return false;
        }
        stats.loop_restarts.fetch_add(1, Ordering::Relaxed);
        let message = format!("orchestrator loop {name} died ({why}); restarting it");
        error!(loop_name = name, "{message}");
        stats.set_last_error(&message);
        true
    }
}

fn describe(outcome: Result<(), JoinError>) -> String {
    match outcome {
        Ok(()) => "it returned".into(),
        Err(e) if e.is_panic() => {
            let payload = e.into_panic();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            format!("panicked: {text}")
        }
        Err(_) => "it was cancelled".into(),
    }
}
