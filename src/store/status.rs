use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The task's full status as JSON text (see tasker.task_status in the migrations).
pub async fn task_status(pool: &PgPool, task_uuid: Uuid) -> Result<String> {
    let json: Option<String> = sqlx::query_scalar("SELECT tasker.task_status($1)::text")
        .bind(task_uuid)
        .fetch_one(pool)
        .await?;
    json.ok_or_else(|| Error::NotFound(format!("no task with uuid {task_uuid}")))
}

/// Just the state, for cheap polling.
pub async fn task_state(pool: &PgPool, task_uuid: Uuid) -> Result<String> {
    sqlx::query_scalar("SELECT state FROM tasker.tasks WHERE task_uuid = $1")
        .bind(task_uuid)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no task with uuid {task_uuid}")))
}

pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|e| Error::InvalidArgument(format!("{text:?} is not a task uuid: {e}")))
}
