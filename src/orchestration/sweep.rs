//! The low-rate recovery sweep: tasks whose ready steps nobody enqueued (after a crash
//! between processes, a manual resolution, a reset) get them enqueued and settled; lost steps
//! are recovered; with `retention` set, one batch of old finished tasks is purged per run
//! (store::retention, one orchestrator at a time).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};
use uuid::Uuid;

use super::orchestrator::Stats;
use crate::error::Result;
use crate::runtime::Client;
use crate::state::TaskState;
use crate::store::recovery::recover_lost_steps;
use crate::store::retention;
use crate::store::settle::advance;

pub async fn run(client: Arc<Client>, stats: Arc<Stats>, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs_f64(client.config.sweep_interval);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(every) => {}
        }
        match sweep(&client).await {
            Ok(0) => {}
            Ok(n) => {
                stats.swept.fetch_add(n as u64, Ordering::Relaxed);
                info!(tasks = n, "sweep advanced stranded tasks");
            }
            Err(e) => warn!(error = %e, "sweep failed; will try again"),
        }
        match recover_lost_steps(&client.pool, client.config.claim_grace_seconds).await {
            Ok(0) => {}
            Ok(n) => {
                stats.recovered.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => warn!(error = %e, "lost-step recovery failed; will try again"),
        }
        if client.config.retention > 0.0 {
            match retention::sweep_batch(&client.pool, client.config.retention).await {
                Ok(Some(counts)) if counts.tasks > 0 => {
                    stats
                        .purged
                        .fetch_add(counts.tasks as u64, Ordering::Relaxed);
                    info!(tasks = counts.tasks, "retention purged finished tasks");
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "retention purge failed; will try again"),
            }
        }
    }
}

/// Advances every unfinished task that has a pending step with all parents satisfied.
pub async fn sweep(client: &Client) -> Result<usize> {
    let candidates: Vec<Uuid> = sqlx::query_scalar("SELECT tasker.stranded_tasks(100)")
        .fetch_all(&client.pool)
        .await?;
    let mut advanced = 0;
    for task_uuid in candidates {
        let mut tx = client.pool.begin().await?;
        // Skip tasks another orchestrator is working on right now.
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(task_uuid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(state) = state.and_then(|s| s.parse::<TaskState>().ok()) else {
            continue;
        };
        advance(&mut tx, task_uuid, state, "recovery sweep").await?;
        tx.commit().await?;
        advanced += 1;
    }
    Ok(advanced)
}
