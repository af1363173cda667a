//! Start, stop and observe the orchestrator's background work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::consumer::Consumer;
use super::supervisor::Supervision;
use super::{scheduler, sweep};
use crate::config::{Config, RESULT_MAX_READS};
use crate::error::{Error, Result};
use crate::messaging::messages::TaskRequest;
use crate::messaging::queue::{self, QueueMessage};
use crate::messaging::{RESULTS_QUEUE, TASK_REQUESTS_QUEUE};
use crate::runtime::{self, Client};
use crate::store::results::{self, Applied, ResultRules, RESULT_VT};
use crate::store::tasks::{create_task, Consume};
use crate::store::{pool, requests};

/// Counters the orchestrator keeps; `status` reports them.
#[derive(Default)]
pub struct Stats {
    pub connected: AtomicBool,
    pub results_processed: AtomicU64,
    pub steps_completed: AtomicU64,
    pub steps_retried: AtomicU64,
    pub steps_failed: AtomicU64,
    pub results_ignored: AtomicU64,
    pub messages_archived: AtomicU64,
    pub tasks_requested: AtomicU64,
    pub swept: AtomicU64,
    pub recovered: AtomicU64,
    pub purged: AtomicU64,
    pub errors: AtomicU64,
    pub disconnects: AtomicU64,
    /// Loops that died and were started again (supervisor.rs).
    pub loop_restarts: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// Why the orchestrator stopped on its own (a loop that kept dying), if it did.
    failure: Mutex<Option<String>>,
}

impl Stats {
    pub fn record_disconnect(&self, error: &str) {
        self.connected.store(false, Ordering::Relaxed);
        self.disconnects.fetch_add(1, Ordering::Relaxed);
        self.set_last_error(error);
    }

    pub fn set_last_error(&self, error: &str) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error.to_string());
        }
    }

    pub fn fail(&self, why: &str) {
        self.set_last_error(why);
        if let Ok(mut failure) = self.failure.lock() {
            *failure = Some(why.to_string());
        }
    }

    fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn count(&self, applied: &Applied) {
        self.results_processed.fetch_add(1, Ordering::Relaxed);
        let counter = match applied {
            Applied::Completed => &self.steps_completed,
            Applied::Retrying { .. } => &self.steps_retried,
            Applied::Failed => &self.steps_failed,
            Applied::Ignored => &self.results_ignored,
            Applied::Archived(_) => &self.messages_archived,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct Orchestrator {
    supervision: Arc<Supervision>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    stats: Arc<Stats>,
    started_at: DateTime<Utc>,
    database: String,
}

#[derive(Serialize)]
struct StatusReport<'a> {
    running: bool,
    pid: u32,
    started_at: DateTime<Utc>,
    database: &'a str,
    connected: bool,
    results_processed: u64,
    steps_completed: u64,
    steps_retried: u64,
    steps_failed: u64,
    results_ignored: u64,
    messages_archived: u64,
    tasks_requested: u64,
    tasks_swept: u64,
    steps_recovered: u64,
    tasks_purged: u64,
    errors: u64,
    disconnects: u64,
    loop_restarts: u64,
    last_error: Option<String>,
    /// Set when the orchestrator stopped on its own: a loop kept dying.
    failure: Option<String>,
}

impl Orchestrator {
    /// Starts the loops on the process's runtime and returns at once.
    pub fn start(config: &Config) -> Result<Arc<Orchestrator>> {
        if let Some(running) = runtime::orchestrator() {
            if running.is_running() {
                return Err(Error::Orchestrator(
                    "an orchestrator is already running in this process".into(),
                ));
            }
        }
        config.validate()?;
        let rt = runtime::runtime()?;
        let _guard = rt.enter();
        // Its own pool (orchestrator_pool_size): result processing must not queue behind
        // Ruby callers. Its LISTEN connections are outside it (pool::listener).
        let client = Arc::new(Client {
            pool: pool::build(config, config.orchestrator_pool_size)?,
            config: config.clone(),
            finished: Default::default(),
        });
        let (shutdown, rx) = watch::channel(false);
        let stats = Arc::new(Stats::default());
        let supervision = Supervision::new(shutdown, stats.clone());
        let rules = ResultRules::of(config);
        let mut handles = Vec::new();
        // One result consumer: consumers would compete for batches (SKIP LOCKED), and one
        // keeps empty reads rare.
        handles.push(supervision.spawn(rt, "results", {
            let (c, s, r) = (client.clone(), stats.clone(), rx.clone());
            move || {
                let (c, s, r) = (c.clone(), s.clone(), r.clone());
                async move {
                    let counted = s.clone();
                    Consumer {
                        queue: RESULTS_QUEUE,
                    }
                    .run(c, s, r, move |c| drain_results(c, counted.clone(), rules))
                    .await
                }
            }
        }));
        handles.push(supervision.spawn(rt, "requests", {
            let (c, s, r) = (client.clone(), stats.clone(), rx.clone());
            move || {
                let (c, s, r) = (c.clone(), s.clone(), r.clone());
                async move {
                    let counted = s.clone();
                    Consumer {
                        queue: TASK_REQUESTS_QUEUE,
                    }
                    .run(c, s, r, move |c| drain_requests(c, counted.clone()))
                    .await
                }
            }
        }));
        handles.push(supervision.spawn(rt, "schedules", {
            let (c, r) = (client.clone(), rx.clone());
            move || scheduler::run(c.clone(), r.clone())
        }));
        handles.push(supervision.spawn(rt, "sweep", {
            let (c, s, r) = (client.clone(), stats.clone(), rx);
            move || sweep::run(c.clone(), s.clone(), r.clone())
        }));
        let orchestrator = Arc::new(Orchestrator {
            supervision,
            handles: Mutex::new(handles),
            stats,
            started_at: Utc::now(),
            database: config.redacted_url(),
        });
        runtime::set_orchestrator(Some(orchestrator.clone()))?;
        info!(database = %orchestrator.database, "orchestrator started");
        Ok(orchestrator)
    }

    /// False once stopped, or once a loop kept dying (see supervisor.rs).
    pub fn is_running(&self) -> bool {
        !*self.supervision.shutdown.borrow()
    }

    /// Test hook (TASKER_CORE_TEST_HOOKS=1 only, checked by the bridge): makes the named loop
    /// panic, as a bug in it would.
    pub fn crash_loop(&self, name: &str) -> Result<()> {
        if self.supervision.crash(name) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "no orchestrator loop {name:?} (loops: {})",
                self.supervision.loop_names().join(", ")
            )))
        }
    }

    /// Asks the loops to stop and waits for them (in-flight messages finish first).
    pub async fn stop(&self, timeout: Duration) -> bool {
        self.supervision.shutdown.send_replace(true);
        let handles: Vec<JoinHandle<()>> = match self.handles.lock() {
            Ok(mut h) => h.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        let joined = tokio::time::timeout(timeout, async {
            for h in handles {
                let _ = h.await;
            }
        })
        .await;
        if joined.is_err() {
            warn!("orchestrator loops did not stop within {timeout:?}");
        }
        info!("orchestrator stopped");
        joined.is_ok()
    }

    pub fn status_json(&self) -> Result<String> {
        let s = &self.stats;
        let failure = s.failure();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let report = StatusReport {
            running: self.is_running(),
            pid: std::process::id(),
            started_at: self.started_at,
            database: &self.database,
            connected: s.connected.load(Ordering::Relaxed),
            results_processed: get(&s.results_processed),
            steps_completed: get(&s.steps_completed),
            steps_retried: get(&s.steps_retried),
            steps_failed: get(&s.steps_failed),
            results_ignored: get(&s.results_ignored),
            messages_archived: get(&s.messages_archived),
            tasks_requested: get(&s.tasks_requested),
            tasks_swept: get(&s.swept),
            steps_recovered: get(&s.recovered),
            tasks_purged: get(&s.purged),
            errors: get(&s.errors),
            disconnects: get(&s.disconnects),
            loop_restarts: get(&s.loop_restarts),
            last_error: s.last_error.lock().ok().and_then(|l| l.clone()),
            failure,
        };
        Ok(serde_json::to_string(&report)?)
    }
}

/// Results applied per transaction.
const RESULT_BATCH: i32 = 16;

async fn drain_results(client: Arc<Client>, stats: Arc<Stats>, rules: ResultRules) -> Result<bool> {
    let applied = results::process_batch(&client.pool, RESULT_BATCH, RESULT_VT, rules).await?;
    applied.iter().for_each(|a| stats.count(a));
    Ok(applied.len() >= RESULT_BATCH as usize)
}

const REQUEST_BATCH: i32 = 8;

async fn drain_requests(client: Arc<Client>, stats: Arc<Stats>) -> Result<bool> {
    let messages = queue::read(&client.pool, TASK_REQUESTS_QUEUE, 30, REQUEST_BATCH).await?;
    for msg in &messages {
        handle_request(&client, msg, &stats).await?;
    }
    Ok(messages.len() >= REQUEST_BATCH as usize)
}

async fn handle_request(client: &Client, msg: &QueueMessage, stats: &Stats) -> Result<()> {
    let consume = Consume {
        queue: TASK_REQUESTS_QUEUE,
        msg_id: msg.msg_id,
    };
    let outcome = if msg.read_ct > RESULT_MAX_READS {
        Err(Error::InvalidArgument(format!(
            "read {} times without being created (poison)",
            msg.read_ct
        )))
    } else {
        match serde_json::from_str::<TaskRequest>(&msg.body) {
            Ok(req) => create_task(&client.pool, &client.config, &req, Some(consume)).await,
            Err(e) => Err(Error::InvalidArgument(format!(
                "malformed task request: {e}"
            ))),
        }
    };
    match outcome {
        Ok(_) => {
            stats.tasks_requested.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(e @ (Error::InvalidArgument(_) | Error::NotFound(_) | Error::Template(_))) => {
            let reason = e.to_string();
            let uuid = requests::reject(
                &client.pool,
                TASK_REQUESTS_QUEUE,
                msg.msg_id,
                &msg.body,
                &reason,
            )
            .await?;
            stats.messages_archived.fetch_add(1, Ordering::Relaxed);
            match uuid {
                Some(task_uuid) => warn!(msg_id = msg.msg_id, %task_uuid, error = %reason,
                                         "task request rejected (task_status reports why); archived"),
                None => warn!(msg_id = msg.msg_id, error = %reason, "task request archived"),
            }
            Ok(())
        }
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            warn!(msg_id = msg.msg_id, error = %e, "task request failed; it will be read again");
            Ok(())
        }
    }
}
