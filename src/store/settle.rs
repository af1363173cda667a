//! Moving a task forward inside a transaction that holds its row lock: enqueue what became
//! ready, then settle the task's own state from its steps' states.

use std::collections::HashMap;

use sqlx::PgConnection;
use tracing::debug;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::messaging::TASK_FINISHED_CHANNEL;
use crate::state::task::settle;
use crate::state::{StepCounts, StepState, TaskState};

/// Locks the task row (every writer of a task's steps takes this lock first) and returns
/// its state, or None when there is no such task.
pub async fn lock_task(conn: &mut PgConnection, task_uuid: Uuid) -> Result<Option<TaskState>> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE")
            .bind(task_uuid)
            .fetch_optional(&mut *conn)
            .await?;
    state
        .map(|s| s.parse::<TaskState>().map_err(Error::Orchestrator))
        .transpose()
}

/// Enqueues the task's ready steps and returns its step counts per state (one round trip).
pub async fn enqueue_and_count(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    reason: &str,
) -> Result<StepCounts> {
    let json: sqlx::types::Json<HashMap<String, i64>> =
        sqlx::query_scalar("SELECT tasker.enqueue_and_count($1, $2)")
            .bind(task_uuid)
            .bind(reason)
            .fetch_one(&mut *conn)
            .await?;
    let mut counts = StepCounts::default();
    for (state, n) in json.0 {
        counts.add(state.parse::<StepState>().map_err(Error::Orchestrator)?, n);
    }
    Ok(counts)
}

/// Records a task transition (guarded by the state we locked) and, when the task is
/// finished, notifies waiters at commit.
pub async fn transition_task(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    from: TaskState,
    to: TaskState,
    reason: &str,
    metadata: Option<&serde_json::Value>,
) -> Result<()> {
    if !from.can_transition_to(to) {
        return Err(Error::InvalidArgument(format!(
            "task {task_uuid} cannot go from {from} to {to}"
        )));
    }
    sqlx::query(
        "UPDATE tasker.tasks SET state = $3, updated_at = clock_timestamp(),
                completed_at = CASE WHEN $4 THEN clock_timestamp() END
          WHERE task_uuid = $1 AND state = $2",
    )
    .bind(task_uuid)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(to.is_finished())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason, metadata)
         VALUES ($1, $2, $3, $4, COALESCE($5, '{}'::jsonb))",
    )
    .bind(task_uuid)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(metadata)
    .execute(&mut *conn)
    .await?;
    if to.is_finished() {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(TASK_FINISHED_CHANNEL)
            .bind(task_uuid.to_string())
            .execute(&mut *conn)
            .await?;
    }
    debug!(%task_uuid, %from, %to, reason, "task transition");
    Ok(())
}

/// Enqueues ready steps, then moves the task to where its steps say it is.
/// Returns the task's state afterwards.
pub async fn advance(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    current: TaskState,
    reason: &str,
) -> Result<TaskState> {
    if !matches!(current, TaskState::Pending | TaskState::InProgress) {
        return Ok(current);
    }
    let counts = enqueue_and_count(conn, task_uuid, reason).await?;
    match settle(current, &counts) {
        Some(next) => {
            transition_task(conn, task_uuid, current, next, reason, None).await?;
            Ok(next)
        }
        None => Ok(current),
    }
}
