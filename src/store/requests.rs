//! Task requests that cannot become tasks. A request that carries its task's uuid
//! (create_task(..., connection:)) is rejected visibly: the reason is kept under that uuid
//! (tasker.rejected_task_requests, read by tasker.task_request_status), waiters are woken,
//! and the message is archived, in one transaction. Any other is only archived.

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;
use crate::messaging::queue::archive;
use crate::messaging::TASK_FINISHED_CHANNEL;

/// The task uuid a request message carries, if it carries a well-formed one (read even
/// from a request that is otherwise malformed, so that its rejection can be reported).
pub fn requested_uuid(body: &str) -> Option<Uuid> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("task_uuid")?.as_str()?.parse().ok()
}

/// Archives the request message; if it carries a task uuid, records why it was rejected
/// and tells waiters of that uuid, in the same transaction. Returns the uuid, if any.
pub async fn reject(
    pool: &PgPool,
    queue: &str,
    msg_id: i64,
    body: &str,
    reason: &str,
) -> Result<Option<Uuid>> {
    let task_uuid = requested_uuid(body);
    let mut tx = pool.begin().await?;
    if let Some(uuid) = task_uuid {
        sqlx::query(
            "WITH rejected AS (
               INSERT INTO tasker.rejected_task_requests (task_uuid, reason, request)
               VALUES ($1, $2, $3::jsonb) ON CONFLICT (task_uuid) DO NOTHING)
             SELECT pg_notify($4, $1::text)",
        )
        .bind(uuid)
        .bind(reason)
        .bind(body)
        .bind(TASK_FINISHED_CHANNEL)
        .execute(&mut *tx)
        .await?;
    }
    archive(&mut tx, queue, msg_id).await?;
    tx.commit().await?;
    Ok(task_uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_task_uuid_of_any_request_that_has_one() {
        let uuid = "0190a4b2-0000-7000-8000-000000000001";
        let body = format!(r#"{{"namespace":"x","unexpected":1,"task_uuid":"{uuid}"}}"#);
        assert_eq!(requested_uuid(&body), uuid.parse().ok());
        assert_eq!(requested_uuid(r#"{"namespace":"x"}"#), None);
        assert_eq!(requested_uuid(r#"{"task_uuid":"not-a-uuid"}"#), None);
        assert_eq!(requested_uuid(r#"{"task_uuid":7}"#), None);
        assert_eq!(requested_uuid("not json"), None);
    }
}
