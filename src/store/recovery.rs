//! Re-enqueues (or fails, when out of attempts) steps whose messages were lost.

use sqlx::PgPool;
use tracing::{instrument, warn};
use uuid::Uuid;

use super::settle::{advance, lock_task};
use crate::error::{Error, Result};
use crate::messaging::queue::namespace_queue;
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
    let row: Option<(String, i32, i32, String, String)> = sqlx::query_as(
        "SELECT s.state, s.attempts, s.max_attempts, s.name, t.namespace
           FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
          WHERE s.step_uuid = $1 FOR UPDATE OF s",
    )
    .bind(step_uuid)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((state, attempts, max_attempts, name, namespace)) = row else {
        return Ok(false);
    };
    // Someone moved it since we looked: not lost after all.
    if state != seen || task_state != TaskState::InProgress {
        return Ok(false);
    }
    let from: StepState = state.parse().map_err(Error::Orchestrator)?;
    if attempts < max_attempts {
        sqlx::query(
            "UPDATE tasker.workflow_steps SET state = 'enqueued', enqueued_at = clock_timestamp(),
                    updated_at = clock_timestamp() WHERE step_uuid = $1",
        )
        .bind(step_uuid)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pgmq.send($1, tasker.step_message($2))")
            .bind(namespace_queue(&namespace)?)
            .bind(step_uuid)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            step_uuid,
            task_uuid,
            from,
            "enqueued",
            attempts,
            "message lost; re-enqueued",
        )
        .await?;
    } else {
        let error = serde_json::json!({
            "class": "TaskerCore::StepLost",
            "message": format!("step {name} was lost after {attempts} of {max_attempts} attempts: \
                                its message disappeared and no result arrived"),
            "retryable": false, "attempt": attempts, "backtrace": []});
        sqlx::query(
            "UPDATE tasker.workflow_steps SET state = 'error', last_error = $2,
                    completed_at = clock_timestamp(), updated_at = clock_timestamp()
              WHERE step_uuid = $1",
        )
        .bind(step_uuid)
        .bind(&error)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            step_uuid,
            task_uuid,
            from,
            "error",
            attempts,
            "message lost; attempts exhausted",
        )
        .await?;
    }
    advance(&mut tx, task_uuid, task_state, "recovery sweep").await?;
    tx.commit().await?;
    warn!(%step_uuid, step = name, "recovered a lost step");
    Ok(true)
}

async fn record(
    conn: &mut sqlx::PgConnection,
    step_uuid: Uuid,
    task_uuid: Uuid,
    from: StepState,
    to: &str,
    attempt: i32,
    reason: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(step_uuid)
    .bind(task_uuid)
    .bind(from.as_str())
    .bind(to)
    .bind(attempt)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}
