//! Every setting of the gem: its default, its range and its validation, written once here.
//! Ruby's TaskerCore::Configuration and the worker's settings ask for them through the
//! native extension (TaskerCore::Internal::Config) instead of keeping copies.

pub mod conninfo;
pub mod redact;
mod settings;

use crate::error::{Error, Result};

pub use redact::redact_url;
pub use settings::{
    find as settings_find, Default, Rule, Setting, Value, MAX_COUNT, MAX_RETENTION, MAX_SECONDS,
    MIN_RETENTION, RECOMMENDED_RETENTION, SETTINGS,
};

/// A message the orchestrator consumes (a result in `tasker_step_results`, a request in
/// `tasker_task_requests`) read this many times without being applied is archived as poison
/// (a result's step is failed).
pub const RESULT_MAX_READS: i32 = 5;
/// The default for a step message (`<namespace>_queue`) read this many times by workers
/// before it is archived as poison (the worker setting `max_reads`).
pub const STEP_MAX_READS: i64 = 25;

/// The log levels `log_level` accepts.
pub const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// The process's configuration (TaskerCore::Configuration#to_native), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub database_url: String,
    /// A replica for status reads ("" for none); Ruby routes those reads (TaskerCore::Configuration#read_url).
    pub read_database_url: String,
    /// Connections of the pool Ruby's calls (create_task, status, ...) use.
    pub pool_size: u32,
    /// Connections of the orchestrator's own pool (its LISTEN connections are extra).
    pub orchestrator_pool_size: u32,
    pub log_level: String,
    pub default_max_attempts: i32,
    pub backoff_base_seconds: f64,
    pub max_backoff_seconds: f64,
    pub backoff_jitter: f64,
    pub visibility_timeout: i32,
    pub poll_interval: f64,
    pub sweep_interval: f64,
    /// How long past its timeout an active step may go without any message before the sweep
    /// treats it as lost.
    pub claim_grace_seconds: f64,
    /// How many due fire times of a schedule are fired at once (the latest; after downtime).
    pub schedule_catch_up: u32,
    /// Seconds the sweep keeps a finished task before purging it; 0: never purged.
    pub retention: f64,
    /// The most elements a fan_out step may return.
    pub max_fan_out: i32,
    /// The most requests one create_tasks call may carry.
    pub max_create_batch: u32,
}

impl Config {
    /// Every default, for this database.
    pub fn for_url(url: &str) -> Self {
        let mut config = Self::defaults();
        config.database_url = url.to_string();
        config
    }

    fn defaults() -> Self {
        let int = |key| settings::default_int(key);
        let float = |key| settings::default_float(key);
        Config {
            database_url: settings::default_text("database_url").to_string(),
            read_database_url: settings::default_text("read_database_url").to_string(),
            pool_size: int("pool_size") as u32,
            orchestrator_pool_size: int("orchestrator_pool_size") as u32,
            log_level: settings::default_text("log_level").to_string(),
            default_max_attempts: int("default_max_attempts") as i32,
            backoff_base_seconds: float("backoff_base_seconds"),
            max_backoff_seconds: float("max_backoff_seconds"),
            backoff_jitter: float("backoff_jitter"),
            visibility_timeout: int("visibility_timeout") as i32,
            poll_interval: float("poll_interval"),
            sweep_interval: float("sweep_interval"),
            claim_grace_seconds: float("claim_grace_seconds"),
            schedule_catch_up: int("schedule_catch_up") as u32,
            retention: float("retention"),
            max_fan_out: int("max_fan_out") as i32,
            max_create_batch: int("max_create_batch") as u32,
        }
    }

    /// Builds the configuration from (key, value) pairs; missing keys take their default.
    /// Fails with an error naming the first key that is unknown, of the wrong type or out
    /// of range.
    pub fn from_pairs<I: IntoIterator<Item = (String, Value)>>(pairs: I) -> Result<Self> {
        let mut config = Self::defaults();
        for (key, value) in pairs {
            let setting = settings::find(&key)
                .filter(|s| s.process)
                .ok_or_else(|| Error::Config(format!("unknown configuration key {key:?}")))?;
            config.set(setting.key, setting.check(value)?)?;
        }
        config.validate()?;
        Ok(config)
    }

    fn set(&mut self, key: &str, value: Value) -> Result<()> {
        match (key, value) {
            ("database_url", Value::Text(v)) => self.database_url = v,
            ("read_database_url", Value::Text(v)) => self.read_database_url = v,
            ("log_level", Value::Text(v)) => self.log_level = v,
            ("pool_size", Value::Int(v)) => self.pool_size = v as u32,
            ("orchestrator_pool_size", Value::Int(v)) => self.orchestrator_pool_size = v as u32,
            ("default_max_attempts", Value::Int(v)) => self.default_max_attempts = v as i32,
            ("visibility_timeout", Value::Int(v)) => self.visibility_timeout = v as i32,
            ("backoff_base_seconds", Value::Float(v)) => self.backoff_base_seconds = v,
            ("max_backoff_seconds", Value::Float(v)) => self.max_backoff_seconds = v,
            ("backoff_jitter", Value::Float(v)) => self.backoff_jitter = v,
            ("poll_interval", Value::Float(v)) => self.poll_interval = v,
            ("sweep_interval", Value::Float(v)) => self.sweep_interval = v,
            ("claim_grace_seconds", Value::Float(v)) => self.claim_grace_seconds = v,
            ("schedule_catch_up", Value::Int(v)) => self.schedule_catch_up = v as u32,
            ("retention", Value::Float(v)) => self.retention = v,
            ("max_fan_out", Value::Int(v)) => self.max_fan_out = v as i32,
            ("max_create_batch", Value::Int(v)) => self.max_create_batch = v as u32,
            (key, _) => {
                return Err(Error::Config(format!(
                    "configuration key {key} is not a process setting"
                )))
            }
        }
        Ok(())
    }

    /// Every value in its range, and the rules between keys.
    pub fn validate(&self) -> Result<()> {
        let checks = [
            ("database_url", Value::Text(self.database_url.clone())),
            (
                "read_database_url",
                Value::Text(self.read_database_url.clone()),
            ),
            ("log_level", Value::Text(self.log_level.clone())),
            ("pool_size", Value::Int(self.pool_size.into())),
            (
                "orchestrator_pool_size",
                Value::Int(self.orchestrator_pool_size.into()),
            ),
            (
                "default_max_attempts",
                Value::Int(self.default_max_attempts.into()),
            ),
            (
                "visibility_timeout",
                Value::Int(self.visibility_timeout.into()),
            ),
            (
                "backoff_base_seconds",
                Value::Float(self.backoff_base_seconds),
            ),
            (
                "max_backoff_seconds",
                Value::Float(self.max_backoff_seconds),
            ),
            ("backoff_jitter", Value::Float(self.backoff_jitter)),
            ("poll_interval", Value::Float(self.poll_interval)),
            ("sweep_interval", Value::Float(self.sweep_interval)),
            (
                "claim_grace_seconds",
                Value::Float(self.claim_grace_seconds),
            ),
            (
                "schedule_catch_up",
                Value::Int(self.schedule_catch_up.into()),
            ),
            ("retention", Value::Float(self.retention)),
            ("max_fan_out", Value::Int(self.max_fan_out.into())),
            ("max_create_batch", Value::Int(self.max_create_batch.into())),
        ];
        for (key, value) in checks {
            settings::find(key)
                .ok_or_else(|| Error::Config(format!("unknown configuration key {key:?}")))?
                .check(value)?;
        }
        if self.retention > 0.0 && self.retention < MIN_RETENTION {
            return Err(Error::Config(format!(
                "retention must be 0 (off) or at least {MIN_RETENTION} seconds, got {}",
                self.retention
            )));
        }
        if self.max_backoff_seconds < self.backoff_base_seconds {
            return Err(Error::Config(format!(
                "max_backoff_seconds must be at least backoff_base_seconds ({}), got {}",
                self.backoff_base_seconds, self.max_backoff_seconds
            )));
        }
        Ok(())
    }

    /// The database URL with its password masked, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(key: &str, value: Value) -> Result<Config> {
        Config::from_pairs([
            (
                "database_url".to_string(),
                Value::Text("postgres://x@y/z".into()),
            ),
            (key.to_string(), value),
        ])
    }

    fn refused(key: &str, value: Value) -> String {
        let err = with(key, value).unwrap_err().to_string();
        assert!(err.starts_with(key), "{err}");
        err
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Config::for_url("postgres://x@y/z").validate().is_ok());
        assert_eq!(Config::for_url("postgres://x@y/z").pool_size, 10);
    }

    #[test]
    fn infinite_nan_and_negative_seconds_are_refused_by_name() {
        for key in ["poll_interval", "sweep_interval", "claim_grace_seconds"] {
            refused(key, Value::Float(f64::INFINITY));
            refused(key, Value::Float(f64::NAN));
            refused(key, Value::Float(-1.0));
        }
        refused("backoff_base_seconds", Value::Float(1e300));
    }

    #[test]
    fn the_read_url_is_empty_or_a_url() {
        assert_eq!(Config::for_url("postgres://x@y/z").read_database_url, "");
        let url = "postgres://r@replica:5433/z";
        let read = with("read_database_url", Value::Text(url.into())).map(|c| c.read_database_url);
        assert_eq!(read.ok().as_deref(), Some(url));
        let err = refused(
            "read_database_url",
            Value::Text("postgres://u:pw@h:x/d".into()),
        );
        assert!(err.contains("port") && !err.contains("pw"), "{err}");
        refused("read_database_url", Value::Int(1));
    }

    #[test]
    fn retention_is_off_or_at_least_an_hour() {
        assert_eq!(Config::for_url("postgres://x@y/z").retention, 0.0);
        assert!(with("retention", Value::Int(0)).is_ok());
        let kept = with("retention", Value::Float(RECOMMENDED_RETENTION)).map(|c| c.retention);
        assert_eq!(kept.ok(), Some(RECOMMENDED_RETENTION));
        assert!(refused("retention", Value::Int(60)).contains("0 (off) or at least 3600"));
        refused("retention", Value::Float(-1.0));
        refused("retention", Value::Float(MAX_RETENTION * 2.0));
    }

    #[test]
    fn huge_integers_are_refused_by_name() {
        let err = refused("visibility_timeout", Value::Int(1 << 40));
        assert!(err.contains("between 1 and 86400"), "{err}");
        refused("pool_size", Value::Int(1 << 40));
        refused("orchestrator_pool_size", Value::Int(0));
    }

    #[test]
    fn wrong_types_are_refused_by_name() {
        let err = refused("pool_size", Value::Other("String \"5\"".into()));
        assert!(err.contains("an integer"), "{err}");
        refused("poll_interval", Value::Text("1".into()));
        refused("visibility_timeout", Value::Float(1.5));
        refused("log_level", Value::Text("loud".into()));
        refused("database_url", Value::Text("mysql://x".into()));
    }

    #[test]
    fn integers_are_accepted_as_seconds_and_zero_grace_is_allowed() {
        let config = with("poll_interval", Value::Int(2)).unwrap();
        assert_eq!(config.poll_interval, 2.0);
        let config = with("claim_grace_seconds", Value::Int(0)).unwrap();
        assert_eq!(config.claim_grace_seconds, 0.0);
        refused("poll_interval", Value::Int(0));
    }

    #[test]
    fn unknown_keys_and_worker_keys_are_not_process_settings() {
        let err = with("colour", Value::Int(1)).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
        assert!(with("concurrency", Value::Int(1)).is_err());
    }

    #[test]
    fn max_backoff_below_base_is_refused() {
        let err = Config::from_pairs([
            ("backoff_base_seconds".to_string(), Value::Float(10.0)),
            ("max_backoff_seconds".to_string(), Value::Float(5.0)),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("max_backoff_seconds"), "{err}");
    }
}
