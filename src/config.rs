//! Configuration handed over by the Ruby side (TaskerCore::Configuration#to_native),
//! validated before anything connects.

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database_url: String,
    #[serde(default = "defaults::pool_size")]
    pub pool_size: u32,
    #[serde(default = "defaults::log_level")]
    pub log_level: String,
    #[serde(default = "defaults::max_attempts")]
    pub default_max_attempts: i32,
    #[serde(default = "defaults::backoff_base")]
    pub backoff_base_seconds: f64,
    #[serde(default = "defaults::max_backoff")]
    pub max_backoff_seconds: f64,
    #[serde(default = "defaults::jitter")]
    pub backoff_jitter: f64,
    #[serde(default = "defaults::visibility_timeout")]
    pub visibility_timeout: i32,
    #[serde(default = "defaults::poll_interval")]
    pub poll_interval: f64,
    #[serde(default = "defaults::sweep_interval")]
    pub sweep_interval: f64,
    /// How long past its timeout an active step may go without any message before the sweep
    /// treats it as lost.
    #[serde(default = "defaults::claim_grace")]
    pub claim_grace_seconds: f64,
}

mod defaults {
    pub fn pool_size() -> u32 {
        10
    }
    pub fn log_level() -> String {
        "warn".into()
    }
    pub fn max_attempts() -> i32 {
        3
    }
    pub fn backoff_base() -> f64 {
        1.0
    }
    pub fn max_backoff() -> f64 {
        300.0
    }
    pub fn jitter() -> f64 {
        0.1
    }
    pub fn visibility_timeout() -> i32 {
        30
    }
    pub fn poll_interval() -> f64 {
        1.0
    }
    pub fn sweep_interval() -> f64 {
        5.0
    }
    pub fn claim_grace() -> f64 {
        30.0
    }
}

impl Config {
    pub fn for_url(url: &str) -> Self {
        Config {
            database_url: url.to_string(),
            pool_size: defaults::pool_size(),
            log_level: defaults::log_level(),
            default_max_attempts: defaults::max_attempts(),
            backoff_base_seconds: defaults::backoff_base(),
            max_backoff_seconds: defaults::max_backoff(),
            backoff_jitter: defaults::jitter(),
            visibility_timeout: defaults::visibility_timeout(),
            poll_interval: defaults::poll_interval(),
            sweep_interval: defaults::sweep_interval(),
            claim_grace_seconds: defaults::claim_grace(),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::Config(format!("{key} {why}")));
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return bad("database_url", "must be a postgres:// URL");
        }
        if self.pool_size == 0 || self.pool_size > 1000 {
            return bad("pool_size", "must be between 1 and 1000");
        }
        if self.default_max_attempts < 1 {
            return bad("default_max_attempts", "must be at least 1");
        }
        if !(self.backoff_base_seconds > 0.0 && self.backoff_base_seconds.is_finite()) {
            return bad("backoff_base_seconds", "must be a positive number");
        }
        if self.max_backoff_seconds.is_nan() || self.max_backoff_seconds < self.backoff_base_seconds
        {
            return bad(
                "max_backoff_seconds",
                "must be at least backoff_base_seconds",
            );
        }
        if !(0.0..=1.0).contains(&self.backoff_jitter) {
            return bad("backoff_jitter", "must be between 0 and 1");
        }
        if self.visibility_timeout < 1 {
            return bad("visibility_timeout", "must be at least 1 second");
        }
        if !(self.poll_interval > 0.0 && self.sweep_interval > 0.0) {
            return bad("poll_interval and sweep_interval", "must be positive");
        }
        if !(self.claim_grace_seconds >= 0.0 && self.claim_grace_seconds.is_finite()) {
            return bad("claim_grace_seconds", "must be a non-negative number");
        }
        Ok(())
    }

    /// The database URL with its password masked, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://bob@db/x"), "postgres://bob@db/x");
    }

    #[test]
    fn validation_names_the_key() {
        let mut c = Config::for_url("postgres://x@y/z");
        assert!(c.validate().is_ok());
        c.backoff_jitter = 2.0;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("backoff_jitter"), "{err}");
        let c = Config::for_url("mysql://x");
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("database_url"));
    }
}
