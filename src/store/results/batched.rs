//! A batch of results in a fixed number of statements. The tasks and steps are locked
//! together, every result is decided in memory by the step state machine (one after
//! another, so a duplicate in the same batch sees the first), all the steps' moves go
//! through the one step writer in one call, and every task touched is advanced with two
//! more statements. Retries send their delayed messages, poison reports remove the step's
//! queued messages; both are rare.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::PgConnection;
use tracing::debug;
use uuid::Uuid;

use super::dynamic::{self, Plan};
use super::{lock_steps, Applied, Outcome, ResultRules, StepRow, Work};
use crate::error::Result;
use crate::events;
use crate::messaging::messages::{StepError, StepResult};
use crate::orchestration::backoff::BackoffPolicy;
use crate::state::step::{apply_result, StepSnapshot};
use crate::state::{ResultOutcome, StepState, TaskState};
use crate::store::settle::advance_all;
use crate::store::steps::{move_steps, send_messages, StepMove};

/// What a decided result still has to do once its move is written.
enum Then<'a> {
    Nothing,
    Dynamic(Plan),
    Retry { delay: f64, row: &'a StepRow },
    RemoveMessages { task_uuid: Uuid },
}

pub(super) async fn apply_all(
    conn: &mut PgConnection,
    work: &[Work],
    rules: ResultRules,
) -> Result<Outcome> {
    let mut steps: Vec<Uuid> = work
        .iter()
        .filter_map(|w| w.parsed.as_ref().ok().map(|r| r.step_uuid))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let rows = if steps.is_empty() {
        HashMap::new()
    } else {
        lock_steps(conn, &steps).await?
    };
    let mut snapshots: HashMap<Uuid, StepSnapshot> = HashMap::new();
    for (uuid, row) in &rows {
        snapshots.insert(*uuid, row.snapshot()?);
    }
    let mut outcome = Outcome::default();
    let mut moves: Vec<StepMove> = Vec::new();
    let mut then: Vec<(Then<'_>, &StepResult)> = Vec::new();
    // task -> (its state when locked, namespace, name): ordered, so tasks advance in lock order
    let mut touched: BTreeMap<Uuid, (TaskState, &str, &str)> = BTreeMap::new();
    for item in work {
        if let Some(unusable) = item.unusable() {
            outcome.record(item.msg.msg_id, unusable);
            continue;
        }
        let Ok(result) = &item.parsed else { continue };
        let Some(row) = rows.get(&result.step_uuid) else {
            let why = format!("result for unknown step {}", result.step_uuid);
            outcome.record(item.msg.msg_id, Applied::Archived(why));
            continue;
        };
        let task_state = row.task_state()?;
        if !matches!(task_state, TaskState::Pending | TaskState::InProgress) {
            debug!(task_uuid = %row.task_uuid, %task_state, "result for a finished task ignored");
            outcome.record(item.msg.msg_id, Applied::Ignored);
            continue;
        }
        let Some(snapshot) = snapshots.get_mut(&result.step_uuid) else {
            continue;
        };
        let decided = apply_result(*snapshot, result);
        let before = *snapshot;
        *snapshot = snapshot.after(&decided);
        let (applied, step_move, next) = match decided {
            ResultOutcome::Ignore(why) => {
                debug!(step_uuid = %result.step_uuid, why, "result ignored");
                outcome.record(item.msg.msg_id, Applied::Ignored);
                continue;
            }
            ResultOutcome::Complete => match dynamic::plan(
                &row.step_name,
                &row.step_type,
                &row.children,
                result,
                rules.max_fan_out,
            ) {
                Ok(plan) => {
                    let mut m = result_move(result, before, StepState::Complete, "step succeeded")?;
                    m.results = Some(
                        result
                            .result
                            .as_ref()
                            .map_or("null", |v| v.get())
                            .to_string(),
                    );
                    (Applied::Completed, m, Then::Dynamic(plan))
                }
                Err(why) => {
                    snapshot.state = StepState::Error;
                    let mut m = result_move(result, before, StepState::Error, &why)?;
                    m.error = Some(last_error(&refusal(why), result.attempt)?);
                    (Applied::Failed, m, Then::Nothing)
                }
            },
            ResultOutcome::Retry { .. } => {
                let delay = backoff(row, result, rules.jitter);
                let reason = format!("retryable failure; next attempt in {delay:.3}s");
                let mut m = result_move(result, before, StepState::WaitingForRetry, &reason)?;
                m.delay_seconds = Some(delay);
                (
                    Applied::Retrying {
                        delay_seconds: delay,
                    },
                    m,
                    Then::Retry { delay, row },
                )
            }
            ResultOutcome::Fail { exhausted } => {
                let reason = match (result.poison, exhausted) {
                    (true, _) => "poison message",
                    (false, true) => "retryable failure on the last attempt",
                    (false, false) => "permanent failure",
                };
                let m = result_move(result, before, StepState::Error, reason)?;
                let next = if result.poison {
                    Then::RemoveMessages {
                        task_uuid: row.task_uuid,
                    }
                } else {
                    Then::Nothing
                };
                (Applied::Failed, m, next)
            }
        };
        moves.push(step_move);
        then.push((next, result));
        touched.insert(row.task_uuid, (task_state, &row.namespace, &row.task_name));
        outcome.record(item.msg.msg_id, applied);
    }
    let moved: Vec<Uuid> = move_steps(conn, &moves)
        .await?
        .into_iter()
        .map(|m| m.step_uuid)
        .collect();
    let mut plans: Vec<Plan> = Vec::new();
    for (next, result) in then {
        if !moved.contains(&result.step_uuid) {
            continue;
        }
        match next {
            Then::Nothing => {}
            Then::Dynamic(plan) => plans.push(plan),
            Then::Retry { delay, row } => {
                send_messages(conn, &[result.step_uuid], delay).await?;
                outcome.events.push(serde_json::json!({
                    "kind": "step.retried", "task_uuid": row.task_uuid,
                    "step_uuid": result.step_uuid, "step_name": row.step_name,
                    "namespace": row.namespace, "attempt": result.attempt,
                    "delay_seconds": delay}));
            }
            Then::RemoveMessages { task_uuid } => {
                sqlx::query("SELECT tasker.remove_step_messages($1, $2)")
                    .bind(task_uuid)
                    .bind(result.step_uuid)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    // Only what this batch changed can have made a step ready: the steps it moved and those
    // the dynamic plans skipped or created (and, in the enqueue, their children).
    let mut changed = moved;
    changed.extend(dynamic::apply(conn, &plans).await?);
    let tasks: Vec<(Uuid, TaskState)> = touched.iter().map(|(u, (s, _, _))| (*u, *s)).collect();
    let after = advance_all(conn, &tasks, Some(&changed), "step result").await?;
    for ((task_uuid, (before, namespace, name)), now) in touched.iter().zip(after) {
        if now != *before && now.is_finished() {
            outcome.events.push(events::task_finished_event(
                *task_uuid,
                namespace,
                name,
                now.as_str(),
            ));
        }
    }
    Ok(outcome)
}

/// The retry's delay: the handler's retry_after wins (capped), else exponential with jitter.
fn backoff(row: &StepRow, result: &StepResult, jitter: f64) -> f64 {
    let policy = BackoffPolicy {
        base_seconds: row.backoff_base_seconds,
        max_seconds: row.max_backoff_seconds,
        jitter,
    };
    let retry_after = result.error.as_ref().and_then(|e| e.retry_after);
    policy.delay_seconds(row.attempts, retry_after, rand::random::<f64>())
}

/// A result's move of its step, from the state and attempts it was decided on, with the
/// error (for a failure) and the audit metadata: what the worker said, how long it took.
fn result_move(
    result: &StepResult,
    before: StepSnapshot,
    to: StepState,
    reason: &str,
) -> Result<StepMove> {
    let error = match to {
        StepState::WaitingForRetry | StepState::Error => Some(error_json(result)?),
        _ => None,
    };
    #[derive(Serialize)]
    struct Audit<'a> {
        worker: &'a RawValue,
        duration_ms: Option<f64>,
        error: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        handler_metadata: Option<&'a RawValue>,
    }
    let empty = RawValue::from_string("{}".to_string())?;
    let error_raw = error
        .as_ref()
        .map(|e| RawValue::from_string(e.clone()))
        .transpose()?;
    let metadata = serde_json::to_string(&Audit {
        worker: result.metadata.as_deref().unwrap_or(&empty),
        duration_ms: result.duration_ms,
        error: error_raw.as_deref(),
        handler_metadata: result.handler_metadata.as_deref(),
    })?;
    let mut m = StepMove::new(result.step_uuid, before.state, before.attempts, to, reason);
    m.error = error;
    m.metadata = Some(metadata);
    Ok(m)
}

/// The permanent error of a decision or fan_out step whose result breaks its rules.
fn refusal(message: String) -> StepError {
    StepError {
        class: Some("TaskerCore::Error".into()),
        message: Some(message),
        retryable: false,
        retry_after: None,
        error_code: None,
        backtrace: Vec::new(),
        context: None,
    }
}

/// A step's last_error: the error plus the attempt it belongs to.
fn last_error(error: &StepError, attempt: i32) -> Result<String> {
    #[derive(Serialize)]
    struct LastError<'a> {
        #[serde(flatten)]
        error: &'a StepError,
        attempt: i32,
    }
    Ok(serde_json::to_string(&LastError { error, attempt })?)
}

/// The step's last_error: the worker's error plus the attempt it belongs to.
fn error_json(result: &StepResult) -> Result<String> {
    let fallback = StepError {
        class: None,
        message: Some("failure without details".into()),
        retryable: true,
        retry_after: None,
        error_code: None,
        backtrace: Vec::new(),
        context: None,
    };
    last_error(result.error.as_ref().unwrap_or(&fallback), result.attempt)
}
