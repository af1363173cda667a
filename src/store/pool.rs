use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::Config;
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

/// A lazily connecting pool: building it never blocks and never fails on a down server.
/// `hot_path`: the orchestrator's own pool, whose sessions plan as HOT_PATH_PLANNING says.
pub fn build(config: &Config, hot_path: bool) -> Result<PgPool> {
    let mut options = PgConnectOptions::from_str(&config.database_url)
        .map_err(|e| {
            Error::Config(format!(
                "database_url {} cannot be parsed: {e}",
                config.redacted_url()
            ))
        })?
        .application_name("tasker-core");
    if hot_path {
        options = options.options(HOT_PATH_PLANNING);
    }
    Ok(PgPoolOptions::new()
        .max_connections(config.pool_size)
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
