use sqlx::PgPool;
use tracing::{info, instrument};

use crate::error::Result;
use crate::messaging::queue::{ensure_queue, namespace_queue};
use crate::templates::Template;

/// Stores a validated template (replacing the same namespace/name/version) and makes sure
/// its namespace and queue exist.
#[instrument(skip(pool, template), fields(template = %template.label()))]
pub async fn register(pool: &PgPool, template: &Template) -> Result<()> {
    let queue = namespace_queue(&template.namespace)?;
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO tasker.namespaces (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(&template.namespace)
        .execute(&mut *tx)
        .await?;
    ensure_queue(&mut tx, &queue).await?;
    sqlx::query(
        "INSERT INTO tasker.named_tasks (namespace, name, version, template)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace, name, version)
         DO UPDATE SET template = EXCLUDED.template, updated_at = now()
         WHERE named_tasks.template IS DISTINCT FROM EXCLUDED.template",
    )
    .bind(&template.namespace)
    .bind(&template.name)
    .bind(&template.version)
    .bind(sqlx::types::Json(template))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    info!(template = %template.label(), "template registered");
    Ok(())
}

/// Registered templates as JSON text: [{namespace, name, version, template, ...}].
pub async fn list(pool: &PgPool) -> Result<String> {
    let json: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE(jsonb_agg(jsonb_build_object(
                    'namespace', namespace, 'name', name, 'version', version,
                    'template', template, 'created_at', created_at, 'updated_at', updated_at)
                  ORDER BY namespace, name, version), '[]'::jsonb)::text
           FROM tasker.named_tasks",
    )
    .fetch_one(pool)
    .await?;
    Ok(json.unwrap_or_else(|| "[]".into()))
}
