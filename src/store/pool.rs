use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::Config;
use crate::error::{Error, Result};

/// A lazily connecting pool: building it never blocks and never fails on a down server.
/// Its sessions plan with PostgreSQL's defaults: no session-wide planner switch (the one
/// function that measured a need sets its own, with the figure: sql/enqueue_ready.sql).
pub fn build(config: &Config) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(&config.database_url)
        .map_err(|e| {
            Error::Config(format!(
                "database_url {} cannot be parsed: {e}",
                config.redacted_url()
            ))
        })?
        .application_name("tasker-core");
    Ok(PgPoolOptions::new()
        .max_connections(config.pool_size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
}
