//! Operator controls: cancel a task, retry a failed task, resolve a step by hand. Each takes
//! the task's row lock, checks the state machine, and records who did it in the audit trail.

use sqlx::{PgConnection, PgPool};
use tracing::{info, instrument};
use uuid::Uuid;

use super::settle::{advance, lock_task, transition_task};
use super::steps::{move_steps, StepMove};
use crate::error::{Error, Result};
use crate::events;
use crate::state::{StepState, TaskState};
use crate::templates::StepType;

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

/// Moves every step of the task in one of `from` to `to` through the step writer (locked
/// first, in step order), recording who asked. Returns how many moved.
async fn move_task_steps(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    from: &[StepState],
    to: StepState,
    reason: &str,
    actor: &Actor,
) -> Result<usize> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let rows: Vec<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT step_uuid, state, attempts FROM tasker.workflow_steps
          WHERE task_uuid = $1 AND state = ANY($2) ORDER BY step_uuid FOR UPDATE",
    )
    .bind(task_uuid)
    .bind(&from)
    .fetch_all(&mut *conn)
    .await?;
    let metadata = actor.metadata().to_string();
    let moves = rows
        .into_iter()
        .map(|(step_uuid, state, attempts)| {
            let from: StepState = state.parse().map_err(Error::Orchestrator)?;
            let mut m = StepMove::new(step_uuid, from, attempts, to, reason);
            m.metadata = Some(metadata.clone());
            Ok(m)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(move_steps(conn, &moves).await?.len())
}

/// A task in error goes back to in_progress (pending if it has a concurrency key), recorded
/// with who asked; then whatever became ready is enqueued and the task settled. Returns its
/// state afterwards.
async fn reopen_and_advance(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    state: TaskState,
    reason: &str,
    actor: &Actor,
) -> Result<TaskState> {
    let mut state = state;
    if state == TaskState::Error {
        // A task with a concurrency key goes back to pending: the enqueue then asks the key's
        // rule (sql/concurrency_waiting.sql) whether it may start now or waits for a slot, as
        // at its creation. Any other task continues at once.
        let keyed: bool = sqlx::query_scalar(
            "SELECT concurrency_key IS NOT NULL FROM tasker.tasks WHERE task_uuid = $1",
        )
        .bind(task_uuid)
        .fetch_one(&mut *conn)
        .await?;
        let reopened = if keyed {
            TaskState::Pending
        } else {
            TaskState::InProgress
        };
        let metadata = actor.metadata();
        transition_task(conn, task_uuid, state, reopened, reason, Some(&metadata)).await?;
        state = reopened;
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
    let steps = move_task_steps(
        &mut tx,
        task_uuid,
        &live,
        StepState::Cancelled,
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
    let steps = move_task_steps(
        &mut tx,
        task_uuid,
        &[StepState::Error, StepState::Cancelled],
        StepState::Pending,
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
    let step: Option<(Uuid, String, i32, String)> = sqlx::query_as(
        "SELECT step_uuid, state, attempts, step_type FROM tasker.workflow_steps
          WHERE task_uuid = $1 AND name = $2 FOR UPDATE",
    )
    .bind(task_uuid)
    .bind(step_name)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((step_uuid, step_state, attempts, step_type)) = step else {
        return Err(Error::NotFound(format!(
            "task {task_uuid} has no step {step_name:?}"
        )));
    };
    // A decision's or fan_out's dependents are what its handler returns (the branches chosen,
    // the instances); results supplied by hand cannot stand in for that.
    let kind = StepType::parse(&step_type).unwrap_or(StepType::Task);
    if kind != StepType::Task {
        return Err(Error::InvalidArgument(format!(
            "step {step_name:?} of task {task_uuid} is a {step_type} step and cannot be resolved by \
             hand: its dependents depend on what its handler returns; retry the task to run it \
             again, or resolve its dependents instead"
        )));
    }
    let from: StepState = step_state.parse().map_err(Error::Orchestrator)?;
    if !from.can_transition_to(StepState::ResolvedManually) {
        return Err(Error::InvalidArgument(format!(
            "step {step_name:?} of task {task_uuid} is {from} and cannot be resolved"
        )));
    }
    let reason = actor.reason_or("resolved by operator");
    let mut m = StepMove::new(
        step_uuid,
        from,
        attempts,
        StepState::ResolvedManually,
        &reason,
    );
    m.results = Some(results.to_string());
    m.metadata = Some(actor.metadata().to_string());
    move_steps(&mut tx, &[m]).await?;
    remove_messages(&mut tx, task_uuid, Some(step_uuid)).await?;
    let now = reopen_and_advance(&mut tx, task_uuid, state, &reason, actor).await?;
    tx.commit().await?;
    info!(step = step_name, "step resolved manually");
    announce(pool, task_uuid, now).await
}
