//! Waiting for a task to finish without polling: one LISTEN connection per client fans
//! `tasker_task_finished` notifications out to every waiter of the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{broadcast, OnceCell};
use tracing::{debug, warn};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::messaging::TASK_FINISHED_CHANNEL;
use crate::state::TaskState;
use crate::store::status::{task_state, task_status};

/// How long a waiter trusts the notifications before it looks again on its own.
const RECHECK: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct FinishHub {
    sender: OnceCell<broadcast::Sender<Uuid>>,
    /// Whether a listener task is running; it stops when its connection fails and nobody
    /// is waiting, and the next waiter starts it again.
    listening: Arc<AtomicBool>,
}

impl FinishHub {
    async fn subscribe(&self, pool: &PgPool) -> broadcast::Receiver<Uuid> {
        let sender = self
            .sender
            .get_or_init(|| async { broadcast::channel(1024).0 })
            .await;
        let receiver = sender.subscribe();
        if !self.listening.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen(pool.clone(), sender.clone(), self.listening.clone()));
        }
        receiver
    }
}

/// LISTENs for finished tasks and hands each to the waiters. When the connection fails it
/// tries again with a growing delay while someone waits (they poll meanwhile); with nobody
/// waiting it stops, so a client of a database that went away does not retry forever. One
/// warning per outage.
async fn listen(pool: PgPool, tx: broadcast::Sender<Uuid>, listening: Arc<AtomicBool>) {
    let mut delay = Duration::from_millis(100);
    let mut warned = false;
    loop {
        let outcome: Result<()> = async {
            let mut listener = crate::store::pool::listener(&pool).await?;
            listener.listen(TASK_FINISHED_CHANNEL).await?;
            warned = false;
            delay = Duration::from_millis(100);
            loop {
                let note = listener.recv().await?;
                if let Ok(uuid) = Uuid::parse_str(note.payload()) {
                    // No receivers is fine: nobody is waiting right now.
                    let _ = tx.send(uuid);
                }
            }
        }
        .await;
        if let Err(e) = outcome {
            if !warned {
                warn!(error = %e, "task-finished listener lost its connection; waiters fall back to polling");
                warned = true;
            } else {
                debug!(error = %e, "task-finished listener still cannot connect");
            }
        }
        if tx.receiver_count() == 0 {
            listening.store(false, Ordering::SeqCst);
            // A waiter that came in between saw a listener running: keep it, unless another
            // listener has been started for it already.
            if tx.receiver_count() == 0 || listening.swap(true, Ordering::SeqCst) {
                return;
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The task's final status (complete, error, cancelled, resolved_manually), or a Timeout
/// error naming the state it was still in.
pub async fn wait_for_task(
    pool: &PgPool,
    hub: &FinishHub,
    task_uuid: Uuid,
    timeout: Duration,
) -> Result<String> {
    // A century stands in for "forever": Instant cannot add more on every platform.
    let timeout = timeout.min(Duration::from_secs(100 * 365 * 86_400));
    let deadline = Instant::now() + timeout;
    let mut finished = hub.subscribe(pool).await;
    let mut last_seen = String::from("unknown");
    loop {
        // A database restart while waiting is survived: look again until the deadline.
        match task_state(pool, task_uuid).await {
            Ok(state) if state.parse::<TaskState>().is_ok_and(TaskState::is_finished) => {
                match task_status(pool, task_uuid).await {
                    Err(e) if e.is_transient() && Instant::now() < deadline => {}
                    done => return done,
                }
            }
            Ok(state) => last_seen = state,
            Err(e) if e.is_transient() => {
                last_seen = format!("unknown (database unreachable: {e})");
            }
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Timeout(format!(
                "task {task_uuid} is still {last_seen} after {:.1}s",
                timeout.as_secs_f64()
            )));
        }
        let wait = (deadline - now).min(RECHECK);
        let _ = tokio::time::timeout(wait, async {
            loop {
                match finished.recv().await {
                    Ok(uuid) if uuid == task_uuid => return,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        })
        .await;
    }
}
