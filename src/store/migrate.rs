use sqlx::PgPool;
use tracing::{info, instrument};

use crate::error::Result;

/// Arbitrary constant: serializes migrate! across processes.
const MIGRATE_LOCK: i64 = 0x7461_736b_6572;

/// Installs pgmq's SQL (embedded in the pgmq crate) and runs our migrations. Idempotent;
/// concurrent callers wait for each other.
#[instrument(skip(pool))]
pub async fn migrate(pool: &PgPool) -> Result<()> {
    let mut lock = super::pool::dedicated(pool).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut lock)
        .await?;
    let outcome = run(pool).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut lock)
        .await?;
    outcome
}

async fn run(pool: &PgPool) -> Result<()> {
    pgmq::install::install_sql_from_embedded(pool).await?;
    sqlx::migrate!("./migrations").run(pool).await?;
    info!("schema and pgmq are up to date");
    Ok(())
}
