//! TaskerCore::Internal::Config and the rules Ruby reads from the core instead of copying:
//! settings' defaults and validation, the URL redaction, the state lists (TaskerCore::States)
//! and the queue-name rule.

use magnus::{
    function, prelude::*, r_hash::ForEach, Error as RbError, Float, Integer, RArray, RHash,
    RModule, RString, Ruby, Symbol, Value as RbValue,
};

use super::errors::to_ruby;
use crate::config::{self, redact_url, Config, Default, Value, SETTINGS};
use crate::error::Error;
use crate::messaging::queue::{NAMESPACE_PATTERN, QUEUE_NAME_PATTERN};
use crate::state::{StepState, TaskState};

pub fn define(ruby: &Ruby, tasker: &RModule, internal: &RModule) -> Result<(), RbError> {
    let m = internal.define_module("Config")?;
    m.define_module_function("defaults", function!(defaults, 1))?;
    m.define_module_function("check", function!(check, 2))?;
    m.define_module_function("validate", function!(validate, 1))?;
    internal.define_module_function("redact_url", function!(redact, 1))?;
    internal.const_set("QUEUE_NAME_PATTERN", QUEUE_NAME_PATTERN)?;
    internal.const_set("NAMESPACE_PATTERN", NAMESPACE_PATTERN)?;
    internal.const_set("STEP_MAX_READS", config::STEP_MAX_READS)?;
    internal.const_set("RECOMMENDED_RETENTION", config::RECOMMENDED_RETENTION)?;
    internal.const_set("PURGE_BATCH", crate::store::retention::PURGE_BATCH)?;
    internal.const_set(
        "SWEEP_PURGE_LOCK",
        crate::store::retention::SWEEP_PURGE_LOCK,
    )?;
    internal.const_set("LOG_LEVELS", frozen_list(ruby, config::LOG_LEVELS.to_vec()))?;
    define_states(ruby, tasker)
}

/// A frozen Array of frozen Strings.
fn frozen_list(ruby: &Ruby, names: Vec<&'static str>) -> RArray {
    let array = ruby.ary_from_iter(names.into_iter().map(|n| {
        let s = ruby.str_new(n);
        s.freeze();
        s
    }));
    array.freeze();
    array
}

/// TaskerCore::States: TASK, STEP, TASK_FINISHED, STEP_FINISHED, derived from the enums.
fn define_states(ruby: &Ruby, tasker: &RModule) -> Result<(), RbError> {
    let states = tasker.define_module("States")?;
    let list = |names| frozen_list(ruby, names);
    let task = |keep: fn(TaskState) -> bool| {
        TaskState::ALL
            .into_iter()
            .filter(|s| keep(*s))
            .map(TaskState::as_str)
            .collect::<Vec<_>>()
    };
    let step = |keep: fn(StepState) -> bool| {
        StepState::ALL
            .into_iter()
            .filter(|s| keep(*s))
            .map(StepState::as_str)
            .collect::<Vec<_>>()
    };
    states.const_set("TASK", list(task(|_| true)))?;
    states.const_set("TASK_FINISHED", list(task(TaskState::is_finished)))?;
    states.const_set("STEP", list(step(|_| true)))?;
    states.const_set("STEP_FINISHED", list(step(StepState::is_terminal)))?;
    Ok(())
}

/// A Ruby value as the settings' rules see it.
fn value_of(ruby: &Ruby, v: RbValue) -> Value {
    if let Some(i) = Integer::from_value(v) {
        return match i.to_i64() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Other(inspect(v)),
        };
    }
    if let Some(f) = Float::from_value(v) {
        return Value::Float(f.to_f64());
    }
    if let Some(s) = RString::from_value(v) {
        if let Ok(text) = s.to_string() {
            return Value::Text(text);
        }
    }
    let _ = ruby;
    Value::Other(inspect(v))
}

fn inspect(v: RbValue) -> String {
    let shown = v.inspect();
    if shown.chars().count() > 60 {
        format!("{}...", shown.chars().take(60).collect::<String>())
    } else {
        shown
    }
}

fn key_of(k: RbValue) -> Result<String, RbError> {
    match Symbol::from_value(k) {
        Some(sym) => Ok(sym.name()?.to_string()),
        None => String::try_convert(k),
    }
}

fn to_ruby_value(ruby: &Ruby, v: Value) -> RbValue {
    match v {
        Value::Int(i) => ruby.integer_from_i64(i).as_value(),
        Value::Float(f) => ruby.float_from_f64(f).as_value(),
        Value::Text(s) => ruby.str_new(&s).as_value(),
        Value::Other(_) => ruby.qnil().as_value(),
    }
}

/// The validated configuration of a Hash (TaskerCore::Configuration#to_native).
pub fn from_hash(ruby: &Ruby, hash: RHash) -> Result<Config, RbError> {
    let mut pairs = Vec::new();
    hash.foreach(|k: RbValue, v: RbValue| {
        pairs.push((key_of(k)?, value_of(ruby, v)));
        Ok(ForEach::Continue)
    })?;
    Config::from_pairs(pairs).map_err(|e| to_ruby(ruby, e))
}

/// Defaults of the process settings (`process` true) or of the worker's options, by key;
/// nil for a default derived from another setting.
fn defaults(ruby: &Ruby, process: bool) -> Result<RHash, RbError> {
    let hash = ruby.hash_new();
    for s in SETTINGS.iter().filter(|s| s.process == process) {
        let value = match s.default {
            Default::Int(i) => Value::Int(i),
            Default::Float(f) => Value::Float(f),
            Default::Text(t) => Value::Text(t.to_string()),
            Default::Derived => Value::Other(String::new()),
        };
        hash.aset(s.key, to_ruby_value(ruby, value))?;
    }
    Ok(hash)
}

/// One setting's value, as the core keeps it (Integer seconds become Float), or a
/// ConfigurationError naming the key.
fn check(ruby: &Ruby, key: String, value: RbValue) -> Result<RbValue, RbError> {
    let setting = config::settings_find(&key).ok_or_else(|| {
        to_ruby(
            ruby,
            Error::Config(format!("unknown configuration key {key:?}")),
        )
    })?;
    let checked = setting
        .check(value_of(ruby, value))
        .map_err(|e| to_ruby(ruby, e))?;
    Ok(to_ruby_value(ruby, checked))
}

fn validate(ruby: &Ruby, hash: RHash) -> Result<bool, RbError> {
    from_hash(ruby, hash).map(|_| true)
}

fn redact(url: String) -> String {
    redact_url(&url)
}
