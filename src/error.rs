//! The one error type of the core. Each kind maps onto one Ruby exception class
//! (see `bridge::errors`), so the kind is the contract, the message the detail.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// A template that cannot be registered (or a request for one that does not exist).
    #[error("{0}")]
    Template(String),
    /// A task, template or step that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A caller passed something the API cannot accept.
    #[error("{0}")]
    InvalidArgument(String),
    /// Configuration that cannot work; the message names the key.
    #[error("{0}")]
    Config(String),
    /// waiting ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// The orchestrator cannot do what was asked.
    #[error("{0}")]
    Orchestrator(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be reached at all (the message names the redacted URL).
    #[error("{0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("pgmq installation failed: {0}")]
    Pgmq(#[from] pgmq::PgmqError),
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Names the database when it could not be reached, so "pool timed out" says where.
    pub fn with_database(self, redacted_url: &str) -> Error {
        match self {
            Error::Database(sqlx::Error::PoolTimedOut) => Error::Unavailable(format!(
                "could not connect to the database at {redacted_url} within 10 s (is PostgreSQL running?)"
            )),
            Error::Database(sqlx::Error::Io(e)) => Error::Unavailable(format!(
                "could not reach the database at {redacted_url}: {e}"
            )),
            other => other,
        }
    }

    /// The same kind of error with `prefix` before its message (which request of a batch it
    /// was about); errors that carry no message of their own are returned as they are.
    pub fn prefixed(self, prefix: &str) -> Error {
        match self {
            Error::Template(m) => Error::Template(format!("{prefix}{m}")),
            Error::NotFound(m) => Error::NotFound(format!("{prefix}{m}")),
            Error::InvalidArgument(m) => Error::InvalidArgument(format!("{prefix}{m}")),
            Error::Config(m) => Error::Config(format!("{prefix}{m}")),
            other => other,
        }
    }

    /// True when retrying later may succeed (connection lost, server restarting).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Database(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            )
        ) || matches!(self, Error::Unavailable(_))
            || matches!(self, Error::Database(sqlx::Error::Database(e))
            if e.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")))
    }
}
