//! The careful path: results applied one at a time, each in a savepoint, in task order. A
//! result whose application fails for a reason other than the database's availability is
//! rolled back alone and left for a later read (archived as poison after MAX_READS reads).

use std::collections::HashMap;

use serde_json::json;
use sqlx::{Acquire, PgConnection};
use tracing::{debug, error};
use uuid::Uuid;

use super::{lock_steps, Applied, Outcome, StepRow, Work};
use crate::error::Result;
use crate::events;
use crate::messaging::messages::{StepError, StepResult};
use crate::messaging::queue::namespace_queue;
use crate::orchestration::backoff::BackoffPolicy;
use crate::state::step::apply_result;
use crate::state::{ResultOutcome, StepState, TaskState};
use crate::store::settle::advance;

pub(super) async fn apply_each(
    tx: &mut PgConnection,
    work: Vec<Work>,
    jitter: f64,
) -> Result<Outcome> {
    let owners = owners(tx, &work).await?;
    let mut work: Vec<(Work, Option<Uuid>)> = work
        .into_iter()
        .map(|w| {
            let task = w
                .parsed
                .as_ref()
                .ok()
                .and_then(|r| owners.get(&r.step_uuid).copied());
            (w, task)
        })
        .collect();
    // Concurrent batches lock tasks in the same order.
    work.sort_by_key(|(_, task)| *task);
    let mut outcome = Outcome::default();
    for (item, _) in work {
        if let Some(unusable) = item.unusable() {
            outcome.record(item.msg.msg_id, unusable);
            continue;
        }
        let Ok(result) = &item.parsed else { continue };
        let mut savepoint = tx.begin().await?;
        let mut after_commit = Vec::new();
        match apply(&mut savepoint, result, jitter, &mut after_commit).await {
            Ok(applied) => {
                savepoint.commit().await?;
                outcome.events.extend(after_commit);
                outcome.record(item.msg.msg_id, applied);
            }
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                savepoint.rollback().await?;
                error!(msg_id = item.msg.msg_id, error = %e,
                       "result not applied; it will be tried again after its visibility timeout");
            }
        }
    }
    Ok(outcome)
}

/// The task of each result's step, in one query.
async fn owners(conn: &mut PgConnection, work: &[Work]) -> Result<HashMap<Uuid, Uuid>> {
    let steps: Vec<Uuid> = work
        .iter()
        .filter_map(|w| w.parsed.as_ref().ok().map(|r| r.step_uuid))
        .collect();
    Ok(sqlx::query_as::<_, (Uuid, Uuid)>(
        "SELECT step_uuid, task_uuid FROM tasker.workflow_steps WHERE step_uuid = ANY($1)",
    )
    .bind(&steps)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect())
}

/// Applies the result; events to publish once the transaction commits go to `after_commit`.
async fn apply(
    conn: &mut PgConnection,
    result: &StepResult,
    jitter: f64,
    after_commit: &mut Vec<serde_json::Value>,
) -> Result<Applied> {
    // The task row first, then the step: the lock order everywhere.
    let Some(row) = lock_steps(conn, &[result.step_uuid])
        .await?
        .remove(&result.step_uuid)
    else {
        return Ok(Applied::Archived(format!(
            "result for unknown step {}",
            result.step_uuid
        )));
    };
    let task_state = row.task_state()?;
    let task_uuid = row.task_uuid;
    let snapshot = row.snapshot()?;
    if !matches!(task_state, TaskState::Pending | TaskState::InProgress) {
        debug!(%task_uuid, %task_state, "result for a finished task ignored");
        return Ok(Applied::Ignored);
    }
    let outcome = apply_result(snapshot, result);
    let applied = match &outcome {
        ResultOutcome::Ignore(why) => {
            debug!(step_uuid = %result.step_uuid, why, "result ignored");
            return Ok(Applied::Ignored);
        }
        ResultOutcome::Complete => {
            complete(conn, result).await?;
            Applied::Completed
        }
        ResultOutcome::Retry { .. } => {
            retry_after_backoff(conn, result, &row, jitter, after_commit).await?
        }
        ResultOutcome::Fail { exhausted } => {
            fail(conn, result, snapshot.state, *exhausted).await?;
            Applied::Failed
        }
    };
    let now = advance(conn, row.task_uuid, task_state, "step result").await?;
    if now != task_state && now.is_finished() {
        after_commit.push(events::task_finished_event(
            row.task_uuid,
            &row.namespace,
            &row.task_name,
            now.as_str(),
        ));
    }
    Ok(applied)
}

/// The retry of a retryable failure: its backoff (the handler's retry_after wins, capped),
/// the step's move to waiting_for_retry with its delayed message, and the event.
pub(super) async fn retry_after_backoff(
    conn: &mut PgConnection,
    result: &StepResult,
    row: &StepRow,
    jitter: f64,
    after_commit: &mut Vec<serde_json::Value>,
) -> Result<Applied> {
    let policy = BackoffPolicy {
        base_seconds: row.backoff_base_seconds,
        max_seconds: row.max_backoff_seconds,
        jitter,
    };
    let retry_after = result.error.as_ref().and_then(|e| e.retry_after);
    let delay = policy.delay_seconds(row.attempts, retry_after, rand::random::<f64>());
    retry(conn, result, row, delay).await?;
    after_commit.push(json!({"kind": "step.retried", "task_uuid": row.task_uuid,
                             "step_uuid": result.step_uuid, "step_name": row.step_name,
                             "namespace": row.namespace, "attempt": result.attempt,
                             "delay_seconds": delay}));
    Ok(Applied::Retrying {
        delay_seconds: delay,
    })
}

async fn complete(conn: &mut PgConnection, result: &StepResult) -> Result<()> {
    let results = result.result.as_ref().map(|r| r.get()).unwrap_or("null");
    sqlx::query(
        "UPDATE tasker.workflow_steps
            SET state = 'complete', results = $3::jsonb, completed_at = clock_timestamp(),
                updated_at = clock_timestamp()
          WHERE step_uuid = $1 AND state = 'in_progress' AND attempts = $2",
    )
    .bind(result.step_uuid)
    .bind(result.attempt)
    .bind(results)
    .execute(&mut *conn)
    .await?;
    transition(
        conn,
        result,
        "in_progress",
        "complete",
        "step succeeded",
        None,
    )
    .await
}

async fn retry(
    conn: &mut PgConnection,
    result: &StepResult,
    row: &StepRow,
    delay: f64,
) -> Result<()> {
    let queue = namespace_queue(&row.namespace)?;
    let error = error_json(result)?;
    sqlx::query(
        "UPDATE tasker.workflow_steps
            SET state = 'waiting_for_retry', last_error = $3::jsonb,
                backoff_until = clock_timestamp() + make_interval(secs => $4),
                updated_at = clock_timestamp()
          WHERE step_uuid = $1 AND state = 'in_progress' AND attempts = $2",
    )
    .bind(result.step_uuid)
    .bind(result.attempt)
    .bind(&error)
    .bind(delay)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "SELECT pgmq.send($1, tasker.step_message($2), NULL::jsonb,
                          clock_timestamp() + make_interval(secs => $3))",
    )
    .bind(&queue)
    .bind(result.step_uuid)
    .bind(delay)
    .execute(&mut *conn)
    .await?;
    let reason = format!("retryable failure; next attempt in {delay:.3}s");
    transition(
        conn,
        result,
        "in_progress",
        "waiting_for_retry",
        &reason,
        Some(&error),
    )
    .await
}

pub(super) async fn fail(
    conn: &mut PgConnection,
    result: &StepResult,
    from: StepState,
    exhausted: bool,
) -> Result<()> {
    let error = error_json(result)?;
    // A poison report fails the step in whatever active state it is; a normal failure only
    // the attempt it belongs to.
    sqlx::query(
        "UPDATE tasker.workflow_steps
            SET state = 'error', last_error = $3::jsonb, completed_at = clock_timestamp(),
                updated_at = clock_timestamp()
          WHERE step_uuid = $1 AND state = $4 AND ($5 OR attempts = $2)",
    )
    .bind(result.step_uuid)
    .bind(result.attempt)
    .bind(&error)
    .bind(from.as_str())
    .bind(result.poison)
    .execute(&mut *conn)
    .await?;
    if result.poison {
        sqlx::query("SELECT tasker.remove_step_messages(task_uuid, step_uuid) FROM tasker.workflow_steps WHERE step_uuid = $1")
            .bind(result.step_uuid)
            .execute(&mut *conn)
            .await?;
    }
    let reason = match (result.poison, exhausted) {
        (true, _) => "poison message",
        (false, true) => "retryable failure on the last attempt",
        (false, false) => "permanent failure",
    };
    transition(conn, result, from.as_str(), "error", reason, Some(&error)).await
}

/// The step's last_error: the worker's error plus the attempt it belongs to.
fn error_json(result: &StepResult) -> Result<String> {
    #[derive(serde::Serialize)]
    struct LastError<'a> {
        #[serde(flatten)]
        error: &'a StepError,
        attempt: i32,
    }
    let fallback = StepError {
        class: None,
        message: Some("failure without details".into()),
        retryable: true,
        retry_after: None,
        error_code: None,
        backtrace: Vec::new(),
    };
    let error = result.error.as_ref().unwrap_or(&fallback);
    Ok(serde_json::to_string(&LastError {
        error,
        attempt: result.attempt,
    })?)
}

async fn transition(
    conn: &mut PgConnection,
    result: &StepResult,
    from: &str,
    to: &str,
    reason: &str,
    error: Option<&str>,
) -> Result<()> {
    let metadata = result.metadata.as_ref().map(|m| m.get()).unwrap_or("{}");
    sqlx::query(
        "INSERT INTO tasker.step_transitions
            (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
         SELECT $1, task_uuid, $8, $2, $3, $4,
                jsonb_build_object('worker', $5::jsonb, 'duration_ms', $6::float8,
                                   'error', $7::jsonb)
           FROM tasker.workflow_steps WHERE step_uuid = $1",
    )
    .bind(result.step_uuid)
    .bind(to)
    .bind(result.attempt)
    .bind(reason)
    .bind(metadata)
    .bind(result.duration_ms)
    .bind(error)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
