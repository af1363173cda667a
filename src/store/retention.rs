//! Retention: deletes finished tasks older than a cutoff with their steps, edges, audit rows
//! and archived messages, and the rejected task requests older than it (sql/purge_tasks.sql),
//! one bounded batch per transaction.

use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};
use tracing::instrument;

use crate::error::{Error, Result};

/// Tasks per batch: a few thousand rows of steps and audit at most, deleted and committed in
/// well under a second, so no batch holds its locks for long.
pub const PURGE_BATCH: i32 = 500;
/// The largest batch a caller may ask for.
pub const MAX_PURGE_BATCH: i64 = 10_000;
/// A batch gives up (and the purge with it) rather than wait this long for a lock or run
/// this long; the tasks it could not lock are left for the next purge.
const BATCH_LOCK_TIMEOUT: &str = "2s";
const BATCH_STATEMENT_TIMEOUT: &str = "60s";
/// Arbitrary constant: one orchestrator's sweep purges at a time.
pub const SWEEP_PURGE_LOCK: i64 = 0x7461_736b_7075;

/// Rows deleted (or, for a dry run, that would be), per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PurgeCounts {
    pub tasks: i64,
    pub workflow_steps: i64,
    pub workflow_step_edges: i64,
    pub task_transitions: i64,
    pub step_transitions: i64,
    pub archived_messages: i64,
    pub rejected_task_requests: i64,
}

impl PurgeCounts {
    fn add(&mut self, o: PurgeCounts) {
        self.tasks += o.tasks;
        self.workflow_steps += o.workflow_steps;
        self.workflow_step_edges += o.workflow_step_edges;
        self.task_transitions += o.task_transitions;
        self.step_transitions += o.step_transitions;
        self.archived_messages += o.archived_messages;
        self.rejected_task_requests += o.rejected_task_requests;
    }

    /// Whether a batch deleted anything (else nothing is left to purge).
    fn any(&self) -> bool {
        self.tasks > 0 || self.rejected_task_requests > 0
    }
}

const COLUMNS: &str = "tasks, workflow_steps, workflow_step_edges, task_transitions, \
                       step_transitions, archived_messages, rejected_task_requests";

/// Seconds as a cutoff: refuses what is not a finite, non-negative number.
fn check_age(older_than: f64) -> Result<f64> {
    if older_than.is_finite() && older_than >= 0.0 {
        Ok(older_than)
    } else {
        Err(Error::InvalidArgument(format!(
            "older_than must be a non-negative finite number of seconds, got {older_than}"
        )))
    }
}

/// A batch size in 1..=MAX_PURGE_BATCH.
fn check_batch(batch: i64) -> Result<i32> {
    if (1..=MAX_PURGE_BATCH).contains(&batch) {
        Ok(batch as i32)
    } else {
        Err(Error::InvalidArgument(format!(
            "batch_size must be an integer between 1 and {MAX_PURGE_BATCH}, got {batch}"
        )))
    }
}

/// Purges every finished task completed more than `older_than` seconds ago (and every
/// rejected request older than that), batch after batch (each its own transaction) until none
/// is left; returns the total per table.
#[instrument(skip(pool))]
pub async fn purge(pool: &PgPool, older_than: f64, batch: i64) -> Result<PurgeCounts> {
    let older_than = check_age(older_than)?;
    let batch = check_batch(batch)?;
    let cutoff: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT clock_timestamp() - make_interval(secs => $1)")
            .bind(older_than)
            .fetch_one(pool)
            .await?;
    let mut total = PurgeCounts::default();
    loop {
        let mut tx = begin_batch(pool).await?;
        let counts = purge_batch(&mut tx, cutoff, batch).await?;
        tx.commit().await?;
        total.add(counts);
        if !counts.any() {
            return Ok(total);
        }
    }
}

/// What `purge` would delete now, counted without deleting.
pub async fn purge_counts(pool: &PgPool, older_than: f64) -> Result<PurgeCounts> {
    let older_than = check_age(older_than)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM tasker.purge_counts(clock_timestamp() - make_interval(secs => $1))"
    );
    Ok(sqlx::query_as(&sql)
        .bind(older_than)
        .fetch_one(pool)
        .await?)
}

/// The sweep's share: one batch, only if no other orchestrator is purging right now
/// (None then).
pub async fn sweep_batch(pool: &PgPool, older_than: f64) -> Result<Option<PurgeCounts>> {
    let mut tx = begin_batch(pool).await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SWEEP_PURGE_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let cutoff: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT clock_timestamp() - make_interval(secs => $1)")
            .bind(check_age(older_than)?)
            .fetch_one(&mut *tx)
            .await?;
    let counts = purge_batch(&mut tx, cutoff, PURGE_BATCH).await?;
    tx.commit().await?;
    Ok(Some(counts))
}

async fn begin_batch(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)",
    )
    .bind(BATCH_LOCK_TIMEOUT)
    .bind(BATCH_STATEMENT_TIMEOUT)
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

async fn purge_batch(
    tx: &mut Transaction<'static, Postgres>,
    cutoff: chrono::DateTime<chrono::Utc>,
    batch: i32,
) -> Result<PurgeCounts> {
    let sql = format!("SELECT {COLUMNS} FROM tasker.purge_tasks($1, $2)");
    Ok(sqlx::query_as(&sql)
        .bind(cutoff)
        .bind(batch)
        .fetch_one(&mut **tx)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_must_be_finite_and_not_negative() {
        assert_eq!(check_age(0.0).ok(), Some(0.0));
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let err = check_age(bad).unwrap_err().to_string();
            assert!(err.starts_with("older_than must be"), "{err}");
        }
        assert_eq!(check_batch(1).ok(), Some(1));
        assert!(check_batch(0).is_err() && check_batch(MAX_PURGE_BATCH + 1).is_err());
    }
}
