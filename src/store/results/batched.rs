//! The common path: a whole batch of results in a fixed number of statements. The tasks and
//! steps are locked together, every result is decided in memory by the step state machine
//! (one after another, so a duplicate in the same batch sees the first), the completions are
//! written with one statement, and every task touched is advanced with two more. Retries and
//! failures, which are rare, take a few statements each.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgConnection;
use tracing::debug;
use uuid::Uuid;

use super::one_by_one::{fail, retry_after_backoff};
use super::{lock_steps, Applied, Outcome, Work};
use crate::error::Result;
use crate::events;
use crate::messaging::messages::StepResult;
use crate::state::step::{apply_result, StepSnapshot};
use crate::state::{ResultOutcome, TaskState};
use crate::store::settle::advance_all;

pub(super) async fn apply_all(
    conn: &mut PgConnection,
    work: &[Work],
    jitter: f64,
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
    let mut completions = Vec::new();
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
        let applied = match decided {
            ResultOutcome::Ignore(why) => {
                debug!(step_uuid = %result.step_uuid, why, "result ignored");
                outcome.record(item.msg.msg_id, Applied::Ignored);
                continue;
            }
            ResultOutcome::Complete => {
                completions.push(result);
                Applied::Completed
            }
            ResultOutcome::Retry { .. } => {
                retry_after_backoff(conn, result, row, jitter, &mut outcome.events).await?
            }
            ResultOutcome::Fail { exhausted } => {
                fail(conn, result, before.state, exhausted).await?;
                Applied::Failed
            }
        };
        touched.insert(row.task_uuid, (task_state, &row.namespace, &row.task_name));
        outcome.record(item.msg.msg_id, applied);
    }
    complete_all(conn, &completions).await?;
    let tasks: Vec<(Uuid, TaskState)> = touched.iter().map(|(u, (s, _, _))| (*u, *s)).collect();
    let after = advance_all(conn, &tasks, "step result").await?;
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

/// Every successful result of the batch: the step's move to complete (guarded by its state
/// and attempt) and its transition, in one statement.
async fn complete_all(conn: &mut PgConnection, results: &[&StepResult]) -> Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let steps: Vec<Uuid> = results.iter().map(|r| r.step_uuid).collect();
    let attempts: Vec<i32> = results.iter().map(|r| r.attempt).collect();
    let values: Vec<&str> = results
        .iter()
        .map(|r| r.result.as_ref().map(|v| v.get()).unwrap_or("null"))
        .collect();
    let metadata: Vec<&str> = results
        .iter()
        .map(|r| r.metadata.as_ref().map(|m| m.get()).unwrap_or("{}"))
        .collect();
    let durations: Vec<Option<f64>> = results.iter().map(|r| r.duration_ms).collect();
    sqlx::query(
        "WITH x AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[])
                             AS x(u, attempt, results, metadata, duration_ms)),
              done AS (
                UPDATE tasker.workflow_steps s
                   SET state = 'complete', results = x.results::jsonb,
                       completed_at = clock_timestamp(), updated_at = clock_timestamp()
                  FROM x
                 WHERE s.step_uuid = x.u AND s.state = 'in_progress' AND s.attempts = x.attempt
                RETURNING s.step_uuid, s.task_uuid, x.attempt, x.metadata, x.duration_ms)
         INSERT INTO tasker.step_transitions
                (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
         SELECT step_uuid, task_uuid, 'in_progress', 'complete', attempt, 'step succeeded',
                jsonb_build_object('worker', metadata::jsonb, 'duration_ms', duration_ms,
                                   'error', NULL::jsonb)
           FROM done",
    )
    .bind(&steps)
    .bind(&attempts)
    .bind(&values)
    .bind(&metadata)
    .bind(&durations)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
