//! Queue names (validated identifiers, never interpolated) and the pgmq calls the
//! orchestrator makes. Workers make theirs through the SQL functions of sql/.

use sqlx::{PgConnection, PgPool};

use crate::error::{Error, Result};

pub const RESULTS_QUEUE: &str = "tasker_step_results";
pub const TASK_REQUESTS_QUEUE: &str = "tasker_task_requests";
/// NOTIFY channel carrying the uuid of every task that reached a final state.
pub const TASK_FINISHED_CHANNEL: &str = "tasker_task_finished";
/// An ancestor's result larger than this as stored (bytes, `pg_column_size`) is not carried in
/// a claim: the claim names it in `deferred` and the worker reads it when its handler asks
/// (sql/claim_step.sql, sql/ancestor_result.sql). A fan_out step's plain Array result would
/// otherwise travel in every one of its instances' claims (59 KB each at 10,000 elements).
pub const CLAIM_INLINE_RESULT_BYTES: usize = 8192;

const MAX_QUEUE_LEN: usize = 47;
const MAX_NAMESPACE_LEN: usize = 41;
/// The two rules below as regular expressions, for Ruby (TaskerCore::QUEUE_NAME).
pub const QUEUE_NAME_PATTERN: &str = "[a-z][a-z0-9_]{0,46}";
pub const NAMESPACE_PATTERN: &str = "[a-z][a-z0-9_]{0,40}";

/// `[a-z][a-z0-9_]*`, no longer than `max`.
fn is_identifier(s: &str, max: usize) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= max
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// QUEUE_NAME_PATTERN anchored, for the database (sql/valid_queue_name.sql).
pub fn queue_name_pattern() -> String {
    format!("^{QUEUE_NAME_PATTERN}$")
}

pub fn validate_queue_name(queue: &str) -> Result<()> {
    if is_identifier(queue, MAX_QUEUE_LEN) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid queue name {queue:?}: expected {}",
            queue_name_pattern()
        )))
    }
}

/// Namespace names become queue names (`<namespace>_queue`), so they obey the same rule.
pub fn validate_namespace(namespace: &str) -> Result<()> {
    if is_identifier(namespace, MAX_NAMESPACE_LEN) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid namespace {namespace:?}: expected a lowercase identifier \
             {NAMESPACE_PATTERN} (it names the queue {namespace}_queue)"
        )))
    }
}

pub fn namespace_queue(namespace: &str) -> Result<String> {
    validate_namespace(namespace)?;
    Ok(format!("{namespace}_queue"))
}

/// The channel the statement-level insert trigger of a queue notifies.
pub fn insert_channel(queue: &str) -> String {
    format!("tasker_q_{queue}")
}

/// A message as read from a queue, its body kept as text so that big integers stay exact.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueMessage {
    pub msg_id: i64,
    pub read_ct: i32,
    pub body: String,
}

pub async fn read(pool: &PgPool, queue: &str, vt: i32, qty: i32) -> Result<Vec<QueueMessage>> {
    validate_queue_name(queue)?;
    Ok(sqlx::query_as::<_, QueueMessage>(
        "SELECT msg_id, read_ct, message::text AS body FROM pgmq.read($1, $2, $3)",
    )
    .bind(queue)
    .bind(vt)
    .bind(qty)
    .fetch_all(pool)
    .await?)
}

pub async fn delete(conn: &mut PgConnection, queue: &str, msg_id: i64) -> Result<()> {
    validate_queue_name(queue)?;
    sqlx::query("SELECT pgmq.delete($1, $2)")
        .bind(queue)
        .bind(msg_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a message to the queue's archive (poison or malformed): kept for inspection,
/// never read again.
pub async fn archive(conn: &mut PgConnection, queue: &str, msg_id: i64) -> Result<()> {
    validate_queue_name(queue)?;
    sqlx::query("SELECT pgmq.archive($1, $2)")
        .bind(queue)
        .bind(msg_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn ensure_queue(conn: &mut PgConnection, queue: &str) -> Result<()> {
    validate_queue_name(queue)?;
    sqlx::query("SELECT tasker.ensure_queue($1)")
        .bind(queue)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patterns_are_the_identifier_rule() {
        let pattern = |max: usize| format!("[a-z][a-z0-9_]{{0,{}}}", max - 1);
        assert_eq!(QUEUE_NAME_PATTERN, pattern(MAX_QUEUE_LEN));
        assert_eq!(NAMESPACE_PATTERN, pattern(MAX_NAMESPACE_LEN));
    }

    #[test]
    fn queue_names_are_identifiers() {
        assert!(validate_queue_name("fulfillment_queue").is_ok());
        assert!(validate_queue_name(&"a".repeat(47)).is_ok());
        for bad in [
            "",
            "1abc",
            "Abc",
            "a-b",
            "a;drop table x",
            "a b",
            &"a".repeat(48),
        ] {
            assert!(validate_queue_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn namespaces_leave_room_for_the_suffix() {
        assert_eq!(namespace_queue("shop").unwrap(), "shop_queue");
        assert!(namespace_queue(&"n".repeat(41)).is_ok());
        assert!(namespace_queue(&"n".repeat(42)).is_err());
        let err = namespace_queue("x'; DROP").unwrap_err().to_string();
        assert!(err.contains("invalid namespace"), "{err}");
    }
}
