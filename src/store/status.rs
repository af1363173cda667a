use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The task's full status as JSON text (sql/task_status.sql); for a task asked for with
/// create_task(..., connection:) that does not exist yet, or never will, its request's
/// status (sql/task_request_status.sql: pending, or error with the reason).
pub async fn task_status(pool: &PgPool, task_uuid: Uuid) -> Result<String> {
    let json: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE(tasker.task_status($1), tasker.task_request_status($1))::text",
    )
    .bind(task_uuid)
    .fetch_one(pool)
    .await?;
    json.ok_or_else(|| Error::NotFound(format!("no task with uuid {task_uuid}")))
}

/// Just the state, for cheap polling (a request's state when there is no task yet).
pub async fn task_state(pool: &PgPool, task_uuid: Uuid) -> Result<String> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE((SELECT state FROM tasker.tasks WHERE task_uuid = $1),
                         tasker.task_request_status($1)->>'state')",
    )
    .bind(task_uuid)
    .fetch_one(pool)
    .await?;
    state.ok_or_else(|| Error::NotFound(format!("no task with uuid {task_uuid}")))
}

pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|e| Error::InvalidArgument(format!("{text:?} is not a task uuid: {e}")))
}
