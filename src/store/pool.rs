use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, PgPool};

use crate::config::{conninfo, Config};
use crate::error::{Error, Result};

/// How every statement of the orchestrator's hot path is planned (its pool's sessions, and
/// the transaction of a task's creation): with its generic plan, cached once per connection,
/// and with indexes even while the statistics say a table is empty. The hot path only ever
/// looks rows up by key; planning each execution anew (PostgreSQL's default for the first
/// executions, and whenever it guesses that pays) cost about a third of a result batch's
/// time, and a plan made on a new or freshly emptied table scans it sequentially until
/// autovacuum's ANALYZE catches up (docs/performance.md).
pub const HOT_PATH_PLANNING: [(&str, &str); 2] = [
    ("plan_cache_mode", "force_generic_plan"),
    ("enable_seqscan", "off"),
];

/// The connection options of the configured URL, read as libpq reads it (config::conninfo).
pub fn connect_options(config: &Config) -> Result<PgConnectOptions> {
    let options = conninfo::options(&config.database_url).map_err(|why| {
        Error::Config(format!(
            "database_url {} cannot be used: {why}",
            config.redacted_url()
        ))
    })?;
    Ok(options.application_name("tasker-core"))
}

/// A lazily connecting pool of `size` connections: building it never blocks and never fails
/// on a down server. `hot_path`: the orchestrator's own pool, whose sessions plan as
/// HOT_PATH_PLANNING says.
pub fn build(config: &Config, size: u32, hot_path: bool) -> Result<PgPool> {
    let mut options = connect_options(config)?;
    if hot_path {
        options = options.options(HOT_PATH_PLANNING);
    }
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
}

/// The BEGIN of a hot-path transaction on a pool that does not plan that way for every
/// session (the one Ruby's calls use).
pub fn begin_hot_path() -> String {
    let mut sql = String::from("BEGIN");
    for (name, value) in HOT_PATH_PLANNING {
        sql.push_str(&format!("; SET LOCAL {name} = {value}"));
    }
    sql
}

/// A LISTEN connection of its own, outside every shared pool: a listener holds its
/// connection for as long as it lives, so inside a pool it would take a slot the queries
/// need (with pool_size = 1, all of them). The one-connection pool behind it only re-makes
/// that connection after a loss, as PgListener does.
pub fn listener_pool(pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(pool.connect_options().as_ref().clone())
}

/// Connects a listener on a connection of its own (see listener_pool).
pub async fn listener(pool: &PgPool) -> Result<PgListener> {
    Ok(PgListener::connect_with(&listener_pool(pool)).await?)
}

/// One connection outside the pool, for a session that holds it while the pool works (the
/// migration lock): taken from the pool, it would wait for a second slot when there is one.
pub async fn dedicated(pool: &PgPool) -> Result<PgConnection> {
    Ok(pool.connect_options().connect().await?)
}
