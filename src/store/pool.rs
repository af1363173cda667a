use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, PgPool};

use crate::config::{conninfo, Config};
use crate::error::{Error, Result};

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
/// on a down server. Its sessions plan with PostgreSQL's defaults: no session-wide planner
/// switch (the one function that measured a need sets its own, with the figure:
/// sql/enqueue_ready.sql).
pub fn build(config: &Config, size: u32) -> Result<PgPool> {
    let options = connect_options(config)?;
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
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

/// The plans of a transaction whose statements all look their rows up by key (a result
/// batch, a task's creation), for that transaction only: each statement keeps one generic
/// plan per connection instead of being planned again on most calls (0.08 ms per step for the
/// result batch's lock, 0.14 ms per create_task for its task transition), and no plan made
/// while the tables were small may scan a whole table later (docs/performance.md, "Plans").
#[macro_export]
macro_rules! key_lookup_plans {
    () => {
        "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off"
    };
}

/// BEGIN with key_lookup_plans!: the transaction that creates tasks (durable).
pub const BEGIN_KEY_LOOKUPS: &str = concat!("BEGIN; ", key_lookup_plans!());

/// Connects a listener on a connection of its own (see listener_pool).
///
/// Without eager reconnection: a lost connection is reported at once (`try_recv` returns
/// `Ok(None)`) and re-made by the next call. Reconnecting eagerly, `try_recv` awaits the new
/// connection before it reports the loss, so a caller that polls it once or races it with a
/// timer (the consumers do both) drops that future and never hears of the loss: the next
/// call reconnects silently. A PostgreSQL restart then went unseen (no disconnect counted,
/// the notifications sent meanwhile left to the poll): spec/faults/postgres_restart_spec.rb,
/// once in a few runs.
pub async fn listener(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(&listener_pool(pool)).await?;
    listener.eager_reconnect(false);
    Ok(listener)
}

/// One connection outside the pool, for a session that holds it while the pool works (the
/// migration lock): taken from the pool, it would wait for a second slot when there is one.
pub async fn dedicated(pool: &PgPool) -> Result<PgConnection> {
    Ok(pool.connect_options().connect().await?)
}
