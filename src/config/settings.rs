//! The table of settings: one row per key with its default and its rule.

use std::fmt;

use super::{conninfo, LOG_LEVELS, STEP_MAX_READS};
use crate::error::{Error, Result};

/// The longest interval or timeout any setting may name: one day. Past it, durations stop
/// being useful and start overflowing timers and timestamps.
pub const MAX_SECONDS: f64 = 86_400.0;
/// The longest retention: ten years.
pub const MAX_RETENTION: f64 = 10.0 * 365.0 * 86_400.0;
/// The shortest retention other than 0 (off): an hour, so a task is never purged while
/// someone is still waiting on or looking at it.
pub const MIN_RETENTION: f64 = 3600.0;
/// The retention docs/operations.md recommends: 14 days.
pub const RECOMMENDED_RETENTION: f64 = 14.0 * 86_400.0;
/// The largest pool, concurrency or batch any setting may ask for.
pub const MAX_COUNT: i64 = 1000;

/// A value as Ruby handed it over.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    /// Anything else (nil, a Symbol, a Bignum...), as Ruby's `inspect` shows it.
    Other(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) if v.is_nan() => f.write_str("NaN"),
            Value::Float(v) if v.is_infinite() => {
                f.write_str(if *v > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Float(v) => write!(f, "{v:?}"),
            Value::Text(v) => write!(f, "{v:?}"),
            Value::Other(v) => f.write_str(v),
        }
    }
}

/// What a setting accepts.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// An Integer in `min..=max`.
    Count { min: i64, max: i64 },
    /// A finite number of seconds (Integer or Float) in `min..=max`, above `min` when
    /// `above_min`.
    Seconds { min: f64, max: f64, above_min: bool },
    /// A number between 0 and 1.
    Fraction,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// A postgres:// URL that `conninfo::parse` accepts.
    Url,
    /// Such a URL, or "" for none.
    OptionalUrl,
}

#[derive(Debug, Clone, Copy)]
pub enum Default {
    Int(i64),
    Float(f64),
    Text(&'static str),
    /// Derived from another setting (the worker's batch_size is its concurrency).
    Derived,
}

#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub key: &'static str,
    pub default: Default,
    pub rule: Rule,
    /// A setting of TaskerCore::Configuration (true), or an option of the workers and the
    /// process runtime (TaskerCore::Worker, TaskerCore::Runtime::Plan) only (false).
    pub process: bool,
}

const fn count(max: i64) -> Rule {
    Rule::Count { min: 1, max }
}

const fn positive_seconds(max: f64) -> Rule {
    Rule::Seconds {
        min: 0.0,
        max,
        above_min: true,
    }
}

const fn process(key: &'static str, default: Default, rule: Rule) -> Setting {
    Setting {
        key,
        default,
        rule,
        process: true,
    }
}

const fn worker(key: &'static str, default: Default, rule: Rule) -> Setting {
    Setting {
        key,
        default,
        rule,
        process: false,
    }
}

pub const SETTINGS: [Setting; 21] = [
    process(
        "database_url",
        Default::Text("postgresql://postgres@127.0.0.1:54329/tasker_development"),
        Rule::Url,
    ),
    // A streaming replica for the reads of the dashboard, the CLI, metrics and task_status;
    // "" reads the primary (database_url).
    process("read_database_url", Default::Text(""), Rule::OptionalUrl),
    process("pool_size", Default::Int(10), count(MAX_COUNT)),
    // One connection per loop (results, requests, sweep) and one spare.
    process("orchestrator_pool_size", Default::Int(4), count(MAX_COUNT)),
    process(
        "log_level",
        Default::Text("warn"),
        Rule::Choice(&LOG_LEVELS),
    ),
    process("default_max_attempts", Default::Int(3), count(MAX_COUNT)),
    process(
        "backoff_base_seconds",
        Default::Float(1.0),
        positive_seconds(MAX_SECONDS),
    ),
    process(
        "max_backoff_seconds",
        Default::Float(300.0),
        positive_seconds(MAX_SECONDS),
    ),
    process("backoff_jitter", Default::Float(0.1), Rule::Fraction),
    process(
        "visibility_timeout",
        Default::Int(30),
        count(MAX_SECONDS as i64),
    ),
    process(
        "poll_interval",
        Default::Float(1.0),
        positive_seconds(3600.0),
    ),
    process(
        "sweep_interval",
        Default::Float(5.0),
        positive_seconds(3600.0),
    ),
    process(
        "claim_grace_seconds",
        Default::Float(30.0),
        Rule::Seconds {
            min: 0.0,
            max: MAX_SECONDS,
            above_min: false,
        },
    ),
    // Fire times of a schedule fired at once when several are due (after downtime): the
    // latest ones; the older ones are skipped.
    process("schedule_catch_up", Default::Int(1), count(MAX_COUNT)),
    // Seconds a finished task is kept before the orchestrator's sweep purges it; 0 keeps
    // everything (off). docs/operations.md recommends RECOMMENDED_RETENTION.
    process(
        "retention",
        Default::Float(0.0),
        Rule::Seconds {
            min: 0.0,
            max: MAX_RETENTION,
            above_min: false,
        },
    ),
    // The most elements one fan_out step may return (docs/handlers-and-templates.md).
    process("max_fan_out", Default::Int(10_000), count(1_000_000)),
    // The most requests one TaskerCore.create_tasks call may carry (docs/getting-started.md).
    process("max_create_batch", Default::Int(1000), count(100_000)),
    worker("concurrency", Default::Int(4), count(MAX_COUNT)),
    worker("batch_size", Default::Derived, count(MAX_COUNT)),
    worker("max_reads", Default::Int(STEP_MAX_READS), count(MAX_COUNT)),
    // How long running handlers get to finish when the process stops (TaskerCore::Runtime).
    worker(
        "shutdown_timeout",
        Default::Float(25.0),
        positive_seconds(MAX_SECONDS),
    ),
];

pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

pub(super) fn default_int(key: &str) -> i64 {
    match find(key).map(|s| s.default) {
        Some(Default::Int(v)) => v,
        _ => 0,
    }
}

pub(super) fn default_float(key: &str) -> f64 {
    match find(key).map(|s| s.default) {
        Some(Default::Float(v)) => v,
        Some(Default::Int(v)) => v as f64,
        _ => 0.0,
    }
}

pub(super) fn default_text(key: &str) -> &'static str {
    match find(key).map(|s| s.default) {
        Some(Default::Text(v)) => v,
        _ => "",
    }
}

impl Setting {
    /// The value in the form the core keeps (Integer seconds become Float), or an error
    /// that names the key, says what it accepts and shows what it got.
    pub fn check(&self, value: Value) -> Result<Value> {
        let refuse = |what: String| {
            let shown = match (&self.rule, &value) {
                (Rule::Url | Rule::OptionalUrl, Value::Text(url)) => super::redact_url(url),
                _ => value.to_string(),
            };
            Err(Error::Config(format!(
                "{} must be {what}, got {shown}",
                self.key
            )))
        };
        match (self.rule, &value) {
            (Rule::Count { min, max }, Value::Int(v)) if (min..=max).contains(v) => Ok(value),
            (Rule::Count { min, max }, _) => refuse(format!("an integer between {min} and {max}")),
            (
                Rule::Seconds {
                    min,
                    max,
                    above_min,
                },
                Value::Int(_) | Value::Float(_),
            ) => {
                let v = match value {
                    Value::Int(i) => i as f64,
                    Value::Float(f) => f,
                    _ => f64::NAN,
                };
                let low_ok = if above_min { v > min } else { v >= min };
                if low_ok && v <= max {
                    Ok(Value::Float(v))
                } else {
                    refuse(seconds_range(min, max, above_min))
                }
            }
            (
                Rule::Seconds {
                    min,
                    max,
                    above_min,
                },
                _,
            ) => refuse(seconds_range(min, max, above_min)),
            (Rule::Fraction, Value::Int(v)) if (0..=1).contains(v) => Ok(Value::Float(*v as f64)),
            (Rule::Fraction, Value::Float(v)) if (0.0..=1.0).contains(v) => Ok(value),
            (Rule::Fraction, _) => refuse("between 0 and 1".into()),
            (Rule::Choice(list), Value::Text(v)) if list.contains(&v.as_str()) => Ok(value),
            (Rule::Choice(list), _) => refuse(format!("one of {}", list.join(", "))),
            (Rule::OptionalUrl, Value::Text(url)) if url.is_empty() => Ok(value),
            (Rule::Url | Rule::OptionalUrl, Value::Text(url)) => match conninfo::options(url) {
                Ok(_) => Ok(value),
                Err(why) => refuse(format!("a postgres:// URL ({why})")),
            },
            (Rule::Url, _) => refuse("a postgres:// URL".into()),
            (Rule::OptionalUrl, _) => refuse("a postgres:// URL or \"\"".into()),
        }
    }
}

fn seconds_range(min: f64, max: f64, above_min: bool) -> String {
    let low = if above_min { "above" } else { "at least" };
    format!("a finite number of seconds {low} {min} and at most {max}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_passes_its_own_rule() {
        for s in SETTINGS {
            let value = match s.default {
                Default::Int(i) => Value::Int(i),
                Default::Float(f) => Value::Float(f),
                Default::Text(t) => Value::Text(t.into()),
                Default::Derived => continue,
            };
            assert!(s.check(value).is_ok(), "{}", s.key);
        }
    }

    #[test]
    fn keys_are_unique() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                SETTINGS[i + 1..].iter().all(|o| o.key != s.key),
                "{}",
                s.key
            );
        }
    }

    #[test]
    fn refusals_say_what_was_expected_and_what_came() {
        let err = find("max_reads")
            .unwrap()
            .check(Value::Float(f64::NAN))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "max_reads must be an integer between 1 and 1000, got NaN"
        );
        let err = find("database_url")
            .unwrap()
            .check(Value::Text("postgres://u:pw@h:x/d".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("port") && !err.contains("pw"), "{err}");
    }
}
