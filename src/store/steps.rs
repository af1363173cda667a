//! The Rust side of the one step writer (sql/move_steps.sql): moves are checked against the
//! step state machine here first, then written, guarded and audited, in one statement.

use sqlx::PgConnection;
use tracing::debug;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::state::StepState;

/// One step's move, decided from the state and attempts read under the step's row lock.
#[derive(Debug, Clone)]
pub struct StepMove {
    pub step_uuid: Uuid,
    pub from: StepState,
    pub attempts: i32,
    pub to: StepState,
    pub reason: String,
    /// complete and resolved_manually: the step's results (JSON text).
    pub results: Option<String>,
    /// waiting_for_retry and error: the step's last_error (JSON text).
    pub error: Option<String>,
    /// waiting_for_retry: seconds until the retry's message is visible.
    pub delay_seconds: Option<f64>,
    /// The audit row's metadata (JSON text).
    pub metadata: Option<String>,
}

impl StepMove {
    pub fn new(
        step_uuid: Uuid,
        from: StepState,
        attempts: i32,
        to: StepState,
        reason: &str,
    ) -> Self {
        StepMove {
            step_uuid,
            from,
            attempts,
            to,
            reason: reason.to_string(),
            results: None,
            error: None,
            delay_seconds: None,
            metadata: None,
        }
    }
}

/// A move that happened.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Moved {
    pub step_uuid: Uuid,
    pub task_uuid: Uuid,
    pub from_state: String,
    pub to_state: String,
    pub attempts: i32,
}

/// Writes the moves (the state machine must allow each), their audit rows included; returns
/// those that happened: a step no longer in the state and attempt it was decided from is left
/// as it is.
pub async fn move_steps(conn: &mut PgConnection, moves: &[StepMove]) -> Result<Vec<Moved>> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(m) = moves.iter().find(|m| !m.from.can_transition_to(m.to)) {
        return Err(Error::InvalidArgument(format!(
            "step {} cannot go from {} to {}",
            m.step_uuid, m.from, m.to
        )));
    }
    let steps: Vec<Uuid> = moves.iter().map(|m| m.step_uuid).collect();
    let from: Vec<&str> = moves.iter().map(|m| m.from.as_str()).collect();
    let attempts: Vec<i32> = moves.iter().map(|m| m.attempts).collect();
    let to: Vec<&str> = moves.iter().map(|m| m.to.as_str()).collect();
    let reasons: Vec<&str> = moves.iter().map(|m| m.reason.as_str()).collect();
    let results: Vec<Option<&str>> = moves.iter().map(|m| m.results.as_deref()).collect();
    let errors: Vec<Option<&str>> = moves.iter().map(|m| m.error.as_deref()).collect();
    let delays: Vec<Option<f64>> = moves.iter().map(|m| m.delay_seconds).collect();
    let metadata: Vec<Option<&str>> = moves.iter().map(|m| m.metadata.as_deref()).collect();
    let moved: Vec<Moved> = sqlx::query_as(
        "SELECT * FROM tasker.move_steps($1, $2, $3, $4, $5, $6::text[]::jsonb[],
                                         $7::text[]::jsonb[], $8, $9::text[]::jsonb[])",
    )
    .bind(&steps)
    .bind(&from)
    .bind(&attempts)
    .bind(&to)
    .bind(&reasons)
    .bind(&results)
    .bind(&errors)
    .bind(&delays)
    .bind(&metadata)
    .fetch_all(&mut *conn)
    .await?;
    if moved.len() < moves.len() {
        debug!(
            asked = moves.len(),
            moved = moved.len(),
            "some steps had moved on already"
        );
    }
    Ok(moved)
}

/// Sends the messages of these steps' next attempts, visible after `delay_seconds`
/// (sql/send_step_messages.sql), in the caller's transaction.
pub async fn send_messages(
    conn: &mut PgConnection,
    steps: &[Uuid],
    delay_seconds: f64,
) -> Result<i32> {
    if steps.is_empty() {
        return Ok(0);
    }
    Ok(
        sqlx::query_scalar("SELECT tasker.send_step_messages($1, $2)")
            .bind(steps)
            .bind(delay_seconds)
            .fetch_one(&mut *conn)
            .await?,
    )
}
