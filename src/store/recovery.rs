//! Re-enqueues (or fails, when out of attempts) steps whose messages were lost.

use sqlx::PgPool;
use tracing::{instrument, warn};
use uuid::Uuid;

use super::settle::{advance, lock_task};
use super::steps::{move_steps, send_messages, StepMove};
use crate::error::{Error, Result};
use crate::state::{StepState, TaskState};

/// Finds lost steps and recovers each in its own transaction. Returns how many.
#[instrument(skip(pool))]
pub async fn recover_lost_steps(pool: &PgPool, grace_seconds: f64) -> Result<usize> {
    let lost: Vec<(Uuid, Uuid, String)> =
        sqlx::query_as("SELECT step_uuid, task_uuid, state FROM tasker.lost_steps($1, 100)")
            .bind(grace_seconds)
            .fetch_all(pool)
            .await?;
    let mut recovered = 0;
    for (step_uuid, task_uuid, seen) in lost {
        if recover(pool, step_uuid, task_uuid, &seen).await? {
            recovered += 1;
        }
    }
    Ok(recovered)
}

async fn recover(pool: &PgPool, step_uuid: Uuid, task_uuid: Uuid, seen: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(task_state) = lock_task(&mut tx, task_uuid).await? else {
        return Ok(false);
    };
    let row: Option<(String, i32, i32, String)> = sqlx::query_as(
        "SELECT state, attempts, max_attempts, name FROM tasker.workflow_steps
          WHERE step_uuid = $1 FOR UPDATE",
    )
    .bind(step_uuid)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((state, attempts, max_attempts, name)) = row else {
        return Ok(false);
    };
    // Someone moved it since we looked: not lost after all.
    if state != seen || task_state != TaskState::InProgress {
        return Ok(false);
    }
    let from: StepState = state.parse().map_err(Error::Orchestrator)?;
    if attempts < max_attempts {
        let m = StepMove::new(
            step_uuid,
            from,
            attempts,
            StepState::Enqueued,
            "message lost; re-enqueued",
        );
        if !move_steps(&mut tx, &[m]).await?.is_empty() {
            send_messages(&mut tx, &[step_uuid], 0.0).await?;
        }
    } else {
        let error = serde_json::json!({
            "class": "TaskerCore::StepLost",
            "message": format!("step {name} was lost after {attempts} of {max_attempts} attempts: \
                                its message disappeared and no result arrived"),
            "retryable": false, "attempt": attempts, "backtrace": []});
        let mut m = StepMove::new(
            step_uuid,
            from,
            attempts,
            StepState::Error,
            "message lost; attempts exhausted",
        );
        m.error = Some(error.to_string());
        move_steps(&mut tx, &[m]).await?;
    }
    advance(&mut tx, task_uuid, task_state, "recovery sweep").await?;
    tx.commit().await?;
    warn!(%step_uuid, step = name, "recovered a lost step");
    Ok(true)
}
