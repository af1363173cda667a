//! Operator controls: cancel a task, retry a failed task, resolve a step by hand. Each takes
//! the task's row lock, checks the state machine, and records who did it in the audit trail.

use sqlx::{PgConnection, PgPool};
use tracing::{info, instrument};
use uuid::Uuid;

use super::settle::{advance, lock_task, transition_task};
use crate::error::{Error, Result};
use crate::events;
use crate::state::{StepState, TaskState};

/// Who asked, and why; stored in the transitions' metadata.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Actor {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Actor {
    fn metadata(&self) -> serde_json::Value {
        serde_json::json!({ "actor": self.actor, "reason": self.reason })
    }

    fn reason_or(&self, default: &str) -> String {
        self.reason.clone().unwrap_or_else(|| default.to_string())
    }
}

async fn locked(conn: &mut PgConnection, task_uuid: Uuid) -> Result<TaskState> {
    lock_task(conn, task_uuid)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no task with uuid {task_uuid}")))
}

/// After commit: tells the Ruby side when a control finished the task.
async fn announce(pool: &PgPool, task_uuid: Uuid, state: TaskState) -> Result<String> {
    if state.is_finished() {
        let (namespace, name): (String, String) =
            sqlx::query_as("SELECT namespace, name FROM tasker.tasks WHERE task_uuid = $1")
                .bind(task_uuid)
                .fetch_one(pool)
                .await?;
        events::emit(events::task_finished_event(
            task_uuid,
            &namespace,
            &name,
            state.as_str(),
        ));
    }
    Ok(state.to_string())
}

/// Moves every step of the task in one of `from` to `to`, with a transition row each.
async fn move_steps(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    from: &[StepState],
    to: StepState,
    extra_set: &str,
    reason: &str,
    actor: &Actor,
) -> Result<u64> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "WITH moved AS (
            UPDATE tasker.workflow_steps s SET state = $3, updated_at = clock_timestamp() {extra_set}
              FROM (SELECT step_uuid, state AS old_state, attempts AS old_attempts
                      FROM tasker.workflow_steps
                     WHERE task_uuid = $1 AND state = ANY($2) FOR UPDATE) old
             WHERE s.step_uuid = old.step_uuid
         RETURNING s.step_uuid, old.old_state, old.old_attempts)
         INSERT INTO tasker.step_transitions
                (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
         SELECT step_uuid, $1, old_state, $3, old_attempts, $4, $5 FROM moved"
    );
    let done = sqlx::query(&sql)
        .bind(task_uuid)
        .bind(&from)
        .bind(to.as_str())
        .bind(reason)
        .bind(actor.metadata())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// A task in error goes back to in_progress (recorded with who asked), then whatever became
/// ready is enqueued and the task settled. Returns its state afterwards.
async fn reopen_and_advance(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    state: TaskState,
    reason: &str,
    actor: &Actor,
) -> Result<TaskState> {
    let mut state = state;
    if state == TaskState::Error {
        let metadata = actor.metadata();
        transition_task(
            conn,
            task_uuid,
            state,
            TaskState::InProgress,
            reason,
            Some(&metadata),
        )
        .await?;
        state = TaskState::InProgress;
    }
    advance(conn, task_uuid, state, reason).await
}

async fn remove_messages(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    step: Option<Uuid>,
) -> Result<i32> {
    Ok(
        sqlx::query_scalar("SELECT tasker.remove_step_messages($1, $2)")
            .bind(task_uuid)
            .bind(step)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Cancels the task: steps not yet finished are cancelled and their queued messages removed;
/// results of steps still running are ignored when they arrive.
#[instrument(skip(pool, actor))]
pub async fn cancel_task(pool: &PgPool, task_uuid: Uuid, actor: &Actor) -> Result<String> {
    let mut tx = pool.begin().await?;
    let state = locked(&mut tx, task_uuid).await?;
    if !state.can_transition_to(TaskState::Cancelled) {
        return Err(Error::InvalidArgument(format!(
            "task {task_uuid} is {state} and cannot be cancelled"
        )));
    }
    let reason = actor.reason_or("cancelled by operator");
    let live = [
        StepState::Pending,
        StepState::Enqueued,
        StepState::InProgress,
        StepState::WaitingForRetry,
    ];
    let steps = move_steps(
        &mut tx,
        task_uuid,
        &live,
        StepState::Cancelled,
        ", completed_at = clock_timestamp()",
        &reason,
        actor,
    )
    .await?;
    let removed = remove_messages(&mut tx, task_uuid, None).await?;
    transition_task(
        &mut tx,
        task_uuid,
        state,
        TaskState::Cancelled,
        &reason,
        Some(&actor.metadata()),
    )
    .await?;
    tx.commit().await?;
    info!(steps, removed, "task cancelled");
    announce(pool, task_uuid, TaskState::Cancelled).await
}

/// A task in error gets its failed (and cancelled) steps back as pending with fresh attempts,
/// and continues.
#[instrument(skip(pool, actor))]
pub async fn retry_task(pool: &PgPool, task_uuid: Uuid, actor: &Actor) -> Result<String> {
    let mut tx = pool.begin().await?;
    let state = locked(&mut tx, task_uuid).await?;
    if state != TaskState::Error {
        return Err(Error::InvalidArgument(format!(
            "task {task_uuid} is {state}; only a task in error can be retried"
        )));
    }
    let reason = actor.reason_or("retried by operator");
    let steps = move_steps(
        &mut tx,
        task_uuid,
        &[StepState::Error, StepState::Cancelled],
        StepState::Pending,
        ", attempts = 0, backoff_until = NULL, completed_at = NULL, started_at = NULL, enqueued_at = NULL",
        &reason,
        actor,
    )
    .await?;
    let now = reopen_and_advance(&mut tx, task_uuid, state, &reason, actor).await?;
    tx.commit().await?;
    info!(steps, "task retried");
    announce(pool, task_uuid, now).await
}

/// Marks one step resolved_manually with the given results (JSON text); its dependents then
/// run as if it had completed.
#[instrument(skip(pool, results, actor))]
pub async fn resolve_step(
    pool: &PgPool,
    task_uuid: Uuid,
    step_name: &str,
    results: &str,
    actor: &Actor,
) -> Result<String> {
    let mut tx = pool.begin().await?;
    let state = locked(&mut tx, task_uuid).await?;
    if !matches!(
        state,
        TaskState::Pending | TaskState::InProgress | TaskState::Error
    ) {
        return Err(Error::InvalidArgument(format!(
            "task {task_uuid} is {state}; its steps can no longer be resolved"
        )));
    }
    let step: Option<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT step_uuid, state, attempts FROM tasker.workflow_steps
          WHERE task_uuid = $1 AND name = $2 FOR UPDATE",
    )
    .bind(task_uuid)
    .bind(step_name)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((step_uuid, step_state, attempts)) = step else {
        return Err(Error::NotFound(format!(
            "task {task_uuid} has no step {step_name:?}"
        )));
    };
    let from: StepState = step_state.parse().map_err(Error::Orchestrator)?;
    if !from.can_transition_to(StepState::ResolvedManually) {
        return Err(Error::InvalidArgument(format!(
            "step {step_name:?} of task {task_uuid} is {from} and cannot be resolved"
        )));
    }
    let reason = actor.reason_or("resolved by operator");
    sqlx::query(
        "UPDATE tasker.workflow_steps
            SET state = 'resolved_manually', results = $2::jsonb, backoff_until = NULL,
                completed_at = clock_timestamp(), updated_at = clock_timestamp()
          WHERE step_uuid = $1",
    )
    .bind(step_uuid)
    .bind(results)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO tasker.step_transitions
            (step_uuid, task_uuid, from_state, to_state, attempt, reason, metadata)
         VALUES ($1, $2, $3, 'resolved_manually', $4, $5, $6)",
    )
    .bind(step_uuid)
    .bind(task_uuid)
    .bind(from.as_str())
    .bind(attempts)
    .bind(&reason)
    .bind(actor.metadata())
    .execute(&mut *tx)
    .await?;
    remove_messages(&mut tx, task_uuid, Some(step_uuid)).await?;
    let now = reopen_and_advance(&mut tx, task_uuid, state, &reason, actor).await?;
    tx.commit().await?;
    info!(step = step_name, "step resolved manually");
    announce(pool, task_uuid, now).await
}
