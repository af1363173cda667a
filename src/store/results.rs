//! Applying worker results: each step's transition, the retry's delayed message or the
//! dependents' enqueue, the task's settlement and the result messages' deletion, a batch
//! of results in one transaction.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{Acquire, PgConnection, PgPool};
use tracing::{debug, error, instrument, warn};
use uuid::Uuid;

use super::settle::{advance, lock_task};
use crate::error::{Error, Result};
use crate::events;
use crate::messaging::messages::{StepError, StepResult};
use crate::messaging::queue::namespace_queue;
use crate::messaging::{QueueMessage, RESULTS_QUEUE};
use crate::orchestration::backoff::BackoffPolicy;
use crate::state::step::{apply_result, StepSnapshot};
use crate::state::{ResultOutcome, StepState, TaskState};

/// What happened to one result message (for logs and counters).
#[derive(Debug, PartialEq)]
pub enum Applied {
    Completed,
    Retrying { delay_seconds: f64 },
    Failed,
    Ignored,
    Archived(String),
}

#[derive(sqlx::FromRow)]
struct StepRow {
    task_uuid: Uuid,
    namespace: String,
    task_name: String,
    step_name: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    retryable: bool,
    backoff_base_seconds: f64,
    max_backoff_seconds: f64,
}

/// A result message read more often than this without being applied is poison.
pub const MAX_READS: i32 = 5;

/// Reads up to `batch` result messages and applies them all in ONE transaction (one commit
/// for the batch): each in a savepoint, in task order so that concurrent batches lock tasks
/// in the same order. A message whose application fails for a non-transient reason is left
/// for a later read (and archived as poison after MAX_READS). Returns what happened to each.
#[instrument(skip_all)]
pub async fn process_batch(
    pool: &PgPool,
    batch: i32,
    vt: i32,
    jitter: f64,
) -> Result<Vec<Applied>> {
    let mut tx = pool.begin().await?;
    let messages = read(&mut tx, vt, batch).await?;
    if messages.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    // Losing this commit in a crash loses all of it together (the results' deletion too), so
    // the results are applied again after recovery: it need not wait for its WAL flush...
    set_synchronous_commit(&mut tx, false).await?;
    let mut work = prepare(&mut tx, messages).await?;
    work.sort_by_key(|w| w.task_uuid);
    let mut done = Vec::with_capacity(work.len());
    let (mut deleted, mut archived, mut events_out) = (Vec::new(), Vec::new(), Vec::new());
    for item in work {
        let applied = match &item.parsed {
            _ if item.msg.read_ct > MAX_READS => Applied::Archived(format!(
                "result message {} read {} times without being applied (poison)",
                item.msg.msg_id, item.msg.read_ct
            )),
            Err(why) => Applied::Archived(format!(
                "malformed result message {}: {why}",
                item.msg.msg_id
            )),
            Ok(result) => {
                let mut savepoint = tx.begin().await?;
                let mut after_commit = Vec::new();
                match apply(
                    &mut savepoint,
                    result,
                    item.task_uuid,
                    jitter,
                    &mut after_commit,
                )
                .await
                {
                    Ok(applied) => {
                        savepoint.commit().await?;
                        events_out.extend(after_commit);
                        applied
                    }
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        savepoint.rollback().await?;
                        error!(msg_id = item.msg.msg_id, error = %e,
                               "result not applied; it will be tried again after its visibility timeout");
                        continue;
                    }
                }
            }
        };
        if let Applied::Archived(why) = &applied {
            warn!("{why}; archived in pgmq.a_{RESULTS_QUEUE}");
            archived.push(item.msg.msg_id);
        } else {
            deleted.push(item.msg.msg_id);
        }
        done.push(applied);
    }
    if !deleted.is_empty() {
        sqlx::query("DELETE FROM pgmq.q_tasker_step_results WHERE msg_id = ANY($1)")
            .bind(&deleted)
            .execute(&mut *tx)
            .await?;
    }
    if !archived.is_empty() {
        sqlx::query("SELECT pgmq.archive($1, $2::bigint[])")
            .bind(RESULTS_QUEUE)
            .bind(&archived)
            .execute(&mut *tx)
            .await?;
    }
    // ...unless it finishes a task: a waiter told "complete" must never see it undone.
    if events_out.iter().any(events::finishes_task) {
        set_synchronous_commit(&mut tx, true).await?;
    }
    tx.commit().await?;
    events_out.into_iter().for_each(events::emit);
    Ok(done)
}

struct Work {
    msg: QueueMessage,
    parsed: std::result::Result<StepResult, String>,
    /// None when the step is unknown (or the message unreadable)
    task_uuid: Option<Uuid>,
}

/// pgmq.read of the results queue, as static SQL (planned once per connection; pgmq's own
/// function re-plans its dynamic SQL on every call): the same rows, the same locking.
async fn read(conn: &mut PgConnection, vt: i32, qty: i32) -> Result<Vec<QueueMessage>> {
    Ok(sqlx::query_as::<_, QueueMessage>(
        "WITH next AS (
             SELECT msg_id FROM pgmq.q_tasker_step_results
              WHERE vt <= clock_timestamp()
              ORDER BY msg_id LIMIT $2
              FOR UPDATE SKIP LOCKED)
         UPDATE pgmq.q_tasker_step_results m
            SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                vt = clock_timestamp() + make_interval(secs => $1)
           FROM next WHERE m.msg_id = next.msg_id
         RETURNING m.msg_id, m.read_ct, m.message::text AS body",
    )
    .bind(f64::from(vt))
    .bind(i64::from(qty))
    .fetch_all(conn)
    .await?)
}

/// Parses every message and finds each step's task in one query.
async fn prepare(conn: &mut PgConnection, messages: Vec<QueueMessage>) -> Result<Vec<Work>> {
    let parsed: Vec<_> = messages
        .into_iter()
        .map(|msg| {
            let parsed = StepResult::parse(&msg.body);
            (msg, parsed)
        })
        .collect();
    let steps: Vec<Uuid> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|r| r.step_uuid))
        .collect();
    let owners: HashMap<Uuid, Uuid> = sqlx::query_as::<_, (Uuid, Uuid)>(
        "SELECT step_uuid, task_uuid FROM tasker.workflow_steps WHERE step_uuid = ANY($1)",
    )
    .bind(&steps)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    Ok(parsed
        .into_iter()
        .map(|(msg, parsed)| {
            let task_uuid = parsed
                .as_ref()
                .ok()
                .and_then(|r| owners.get(&r.step_uuid).copied());
            Work {
                msg,
                parsed,
                task_uuid,
            }
        })
        .collect())
}

async fn set_synchronous_commit(conn: &mut PgConnection, on: bool) -> Result<()> {
    sqlx::query("SELECT set_config('synchronous_commit', $1, true)")
        .bind(if on { "on" } else { "off" })
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies the result; events to publish once the transaction commits go to `after_commit`.
async fn apply(
    conn: &mut PgConnection,
    result: &StepResult,
    task_uuid: Option<Uuid>,
    jitter: f64,
    after_commit: &mut Vec<serde_json::Value>,
) -> Result<Applied> {
    let Some(task_uuid) = task_uuid else {
        return Ok(Applied::Archived(format!(
            "result for unknown step {}",
            result.step_uuid
        )));
    };
    // Lock order everywhere: task row first, then its steps.
    let Some(task_state) = lock_task(conn, task_uuid).await? else {
        return Ok(Applied::Ignored);
    };
    let row: StepRow = sqlx::query_as(
        "SELECT s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name, s.state, s.attempts, s.max_attempts, s.retryable,
                s.backoff_base_seconds, s.max_backoff_seconds
           FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
          WHERE s.step_uuid = $1 FOR UPDATE OF s",
    )
    .bind(result.step_uuid)
    .fetch_one(&mut *conn)
    .await?;
    let snapshot = StepSnapshot {
        state: row
            .state
            .parse::<StepState>()
            .map_err(Error::Orchestrator)?,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        retryable: row.retryable,
    };
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
            let policy = BackoffPolicy {
                base_seconds: row.backoff_base_seconds,
                max_seconds: row.max_backoff_seconds,
                jitter,
            };
            let error = result.error.as_ref();
            let delay = policy.delay_seconds(
                row.attempts,
                error.and_then(|e| e.retry_after),
                rand::random::<f64>(),
            );
            retry(conn, result, &row, delay).await?;
            after_commit.push(json!({"kind": "step.retried", "task_uuid": row.task_uuid,
                                     "step_uuid": result.step_uuid, "step_name": row.step_name,
                                     "namespace": row.namespace, "attempt": result.attempt,
                                     "delay_seconds": delay}));
            Applied::Retrying {
                delay_seconds: delay,
            }
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

async fn fail(
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
