//! Pause and resume per namespace: a row of `tasker.paused_namespaces` stops every worker's
//! claim of that namespace's steps (sql/queue_paused.sql, read by each queue's claim);
//! `tasker.namespace_controls` records who paused or resumed it.

use sqlx::PgPool;
use tracing::{info, instrument};

use super::controls::Actor;
use crate::error::Result;
use crate::messaging::queue::validate_namespace;

/// Pauses the namespace; false when it was paused already (the first pause's actor stays).
#[instrument(skip(pool, actor))]
pub async fn pause(pool: &PgPool, namespace: &str, actor: &Actor) -> Result<bool> {
    validate_namespace(namespace)?;
    let paused: bool = sqlx::query_scalar("SELECT tasker.pause_namespace($1, $2, $3)")
        .bind(namespace)
        .bind(&actor.actor)
        .bind(&actor.reason)
        .fetch_one(pool)
        .await?;
    info!(paused, actor = actor.actor.as_deref(), "namespace pause");
    Ok(paused)
}

/// Resumes the namespace and wakes its workers; false when it was not paused.
#[instrument(skip(pool, actor))]
pub async fn resume(pool: &PgPool, namespace: &str, actor: &Actor) -> Result<bool> {
    validate_namespace(namespace)?;
    let resumed: bool = sqlx::query_scalar("SELECT tasker.resume_namespace($1, $2, $3)")
        .bind(namespace)
        .bind(&actor.actor)
        .bind(&actor.reason)
        .fetch_one(pool)
        .await?;
    info!(resumed, actor = actor.actor.as_deref(), "namespace resume");
    Ok(resumed)
}

/// The paused namespaces as a JSON array of {namespace, paused_by, reason, paused_at}, by name.
pub async fn list(pool: &PgPool) -> Result<String> {
    let json: String = sqlx::query_scalar(
        "SELECT COALESCE(json_agg(json_build_object('namespace', namespace, 'paused_by', paused_by,
                         'reason', reason, 'paused_at', paused_at) ORDER BY namespace), '[]')::text
           FROM tasker.paused_namespaces",
    )
    .fetch_one(pool)
    .await?;
    Ok(json)
}
