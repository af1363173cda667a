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
    transition_tasks(conn, &[(task_uuid, from, to)], reason, metadata).await
}

/// Moves tasks from the state we locked to their next one, records each transition and
/// notifies the waiters of the finished ones at commit: one statement for any number. Tasks
/// that finish free their concurrency-key slots here, in the same transaction
/// (start_waiting).
pub async fn transition_tasks(
    conn: &mut PgConnection,
    moves: &[(Uuid, TaskState, TaskState)],
    reason: &str,
    metadata: Option<&serde_json::Value>,
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    if let Some((task_uuid, from, to)) = moves.iter().find(|(_, f, t)| !f.can_transition_to(*t)) {
        return Err(Error::InvalidArgument(format!(
            "task {task_uuid} cannot go from {from} to {to}"
        )));
    }
    let uuids: Vec<Uuid> = moves.iter().map(|m| m.0).collect();
    let from: Vec<&str> = moves.iter().map(|m| m.1.as_str()).collect();
    let to: Vec<&str> = moves.iter().map(|m| m.2.as_str()).collect();
    let finished: Vec<bool> = moves.iter().map(|m| m.2.is_finished()).collect();
    sqlx::query(
        "WITH x AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[])
                             AS x(u, from_state, to_state, finished)),
              moved AS (
                UPDATE tasker.tasks t
                   SET state = x.to_state, updated_at = clock_timestamp(),
                       completed_at = CASE WHEN x.finished THEN clock_timestamp() END
                  FROM x WHERE t.task_uuid = ANY($1) AND t.task_uuid = x.u AND t.state = x.from_state
                RETURNING t.task_uuid, x.from_state, x.to_state, x.finished),
              audit AS (
                INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason, metadata)
                SELECT task_uuid, from_state, to_state, $5, COALESCE($6, '{}'::jsonb) FROM moved)
         SELECT pg_notify($7, task_uuid::text) FROM moved WHERE finished",
    )
    .bind(&uuids)
    .bind(&from)
    .bind(&to)
    .bind(&finished)
    .bind(reason)
    .bind(metadata)
    .bind(TASK_FINISHED_CHANNEL)
    .execute(&mut *conn)
    .await?;
    for (task_uuid, from, to) in moves {
        debug!(%task_uuid, %from, %to, reason, "task transition");
    }
    let finished: Vec<Uuid> = moves
        .iter()
        .filter(|m| m.2.is_finished())
        .map(|m| m.0)
        .collect();
    start_waiting(conn, &finished).await
}

/// These tasks just finished: the tasks waiting for their concurrency keys that may start now
/// (tasker.concurrency_next, rows locked) are advanced. They start, so they finish nothing
/// and this goes one level deep.
async fn start_waiting(conn: &mut PgConnection, finished: &[Uuid]) -> Result<()> {
    if finished.is_empty() {
        return Ok(());
    }
    let next: Vec<Uuid> = sqlx::query_scalar("SELECT tasker.concurrency_next($1)")
        .bind(finished)
        .fetch_all(&mut *conn)
        .await?;
    if next.is_empty() {
        return Ok(());
    }
    let tasks: Vec<(Uuid, TaskState)> = next.into_iter().map(|u| (u, TaskState::Pending)).collect();
    Box::pin(advance_all(conn, &tasks, None, "concurrency key free")).await?;
    Ok(())
}

/// For each task (its row locked, its state `current`), enqueues its ready steps and moves
/// it to where its steps say it is: two statements for any number of tasks. `changed`: the
/// steps whose state just changed or that were just created, when only they (and their
/// children) can have become ready; None asks about every step of the tasks. Returns each
/// task's state afterwards, in the order given.
pub async fn advance_all(
    conn: &mut PgConnection,
    tasks: &[(Uuid, TaskState)],
    changed: Option<&[Uuid]>,
    reason: &str,
) -> Result<Vec<TaskState>> {
    let open: Vec<Uuid> = tasks
        .iter()
        .filter(|(_, s)| matches!(s, TaskState::Pending | TaskState::InProgress))
        .map(|(u, _)| *u)
        .collect();
    let counted: HashMap<Uuid, StepCounts> = if open.is_empty() {
        HashMap::new()
    } else {
        let rows: Vec<(Uuid, sqlx::types::Json<HashMap<String, i64>>)> =
            sqlx::query_as("SELECT task_uuid, counts FROM tasker.enqueue_ready($1, $2, $3)")
                .bind(&open)
                .bind(reason)
                .bind(changed)
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|(u, json)| Ok((u, counts(json.0)?)))
            .collect::<Result<_>>()?
    };
    let mut moves = Vec::new();
    let after = tasks
        .iter()
        .map(
            |(u, current)| match counted.get(u).and_then(|c| settle(*current, c)) {
                Some(next) => {
                    moves.push((*u, *current, next));
                    next
                }
                None => *current,
            },
        )
        .collect();
    transition_tasks(conn, &moves, reason, None).await?;
    Ok(after)
}

fn counts(by_state: HashMap<String, i64>) -> Result<StepCounts> {
    let mut counts = StepCounts::default();
    for (state, n) in by_state {
        counts.add(state.parse::<StepState>().map_err(Error::Orchestrator)?, n);
    }
    Ok(counts)
}

/// Enqueues ready steps, then moves the task to where its steps say it is.
/// Returns the task's state afterwards.
pub async fn advance(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    current: TaskState,
    reason: &str,
) -> Result<TaskState> {
    let after = advance_all(conn, &[(task_uuid, current)], None, reason).await?;
    Ok(after.first().copied().unwrap_or(current))
}
