//! The second reader: templates written in the Tasker family's format (`namespace_name`,
//! `step_templates`, `handler_class`...) read into the native model, so validation and
//! everything after it is one code path. The mapping is documented in
//! docs/coming-from-tasker.md.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{RetryPolicy, StepTemplate, TaskerInfo, TaskerStepInfo, Template};

/// `default_retry_limit` when a step leaves it out: retries after the first attempt.
pub const DEFAULT_RETRY_LIMIT: i64 = 3;
/// The largest retry limit: one less than the most attempts a native step may have.
const MAX_RETRY_LIMIT: i64 = 999;
const DEFAULT_VERSION: &str = "1.0.0";
const DEFAULT_ENVIRONMENT: &str = "development";
/// Where the current environment's name comes from, first set wins.
pub const ENVIRONMENT_VARIABLES: [&str; 3] = ["TASKER_ENV", "RAILS_ENV", "RACK_ENV"];

/// A template is in the Tasker format when it has either of these keys.
pub fn is_tasker_format(value: &Value) -> bool {
    value.get("namespace_name").is_some() || value.get("step_templates").is_some()
}

/// The environment whose `environments` overrides apply.
pub fn current_environment() -> String {
    ENVIRONMENT_VARIABLES
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskerTemplate {
    name: String,
    namespace_name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    module_namespace: Option<String>,
    #[serde(default)]
    task_handler_class: Option<String>,
    #[serde(default)]
    default_dependent_system: Option<String>,
    #[serde(default)]
    named_steps: Option<Vec<String>>,
    #[serde(default)]
    custom_events: Option<Value>,
    #[serde(default)]
    default_context: Map<String, Value>,
    #[serde(default)]
    default_options: Map<String, Value>,
    #[serde(default)]
    handler_config: Map<String, Value>,
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    environments: BTreeMap<String, Environment>,
    step_templates: Vec<TaskerStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskerStep {
    name: String,
    #[serde(default)]
    description: Option<String>,
    handler_class: String,
    #[serde(default)]
    handler_config: Option<Value>,
    #[serde(default)]
    depends_on_step: Option<String>,
    #[serde(default)]
    depends_on_steps: Vec<String>,
    #[serde(default)]
    default_retryable: Option<bool>,
    #[serde(default)]
    default_retry_limit: Option<RetryLimit>,
    #[serde(default)]
    timeout_seconds: Option<i32>,
    #[serde(default)]
    skippable: Option<bool>,
    #[serde(default)]
    dependent_system: Option<String>,
    #[serde(default)]
    custom_events: Option<Value>,
}

/// Tasker templates write the retry limit as a number or as a numeric string.
#[derive(Deserialize)]
#[serde(untagged)]
enum RetryLimit {
    Number(i64),
    Text(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Environment {
    /// `[{name:, ...keys to merge over that step}]`
    #[serde(default)]
    step_templates: Vec<Map<String, Value>>,
    /// The older form: `{step_name: {handler_config:, retry_limit:}}`.
    #[serde(default)]
    step_overrides: BTreeMap<String, StepOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepOverride {
    #[serde(default)]
    handler_config: Option<Value>,
    #[serde(default)]
    retry_limit: Option<Value>,
}

/// Reads a Tasker-format template into the native model, with the overrides of
/// `environment` applied. Every environment's overrides are checked, not only the current
/// one's. Errors are plain text; the caller prefixes the template's name.
pub fn read(value: Value, environment: &str) -> Result<Template, String> {
    let base: TaskerTemplate = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let mut current = None;
    for (env, overrides) in &base.environments {
        match overridden(&value, overrides).and_then(|v| convert(v, env)) {
            Ok(template) if env == environment => current = Some(template),
            Ok(_) => {}
            Err(e) => problems.push(format!("environments.{env}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    match current {
        Some(template) => Ok(template),
        None => convert(value, environment),
    }
}

/// The template's JSON with one environment's step overrides deep-merged over its steps.
fn overridden(value: &Value, env: &Environment) -> Result<Value, String> {
    let mut out = value.clone();
    let steps = out
        .get_mut("step_templates")
        .and_then(Value::as_array_mut)
        .ok_or("step_templates must be a list")?;
    let mut merge_into = |name: &str, patch: Value, key: &str| -> Result<(), String> {
        let step = steps
            .iter_mut()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| format!("{key} names unknown step {name:?}"))?;
        deep_merge(step, patch);
        Ok(())
    };
    for (i, patch) in env.step_templates.iter().enumerate() {
        let key = format!("step_templates[{i}]");
        let name = patch
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{key} needs the name of the step it overrides"))?;
        merge_into(name, Value::Object(patch.clone()), &key)?;
    }
    for (name, o) in &env.step_overrides {
        let mut patch = Map::new();
        if let Some(config) = &o.handler_config {
            patch.insert("handler_config".into(), config.clone());
        }
        if let Some(limit) = &o.retry_limit {
            patch.insert("default_retry_limit".into(), limit.clone());
        }
        merge_into(name, Value::Object(patch), "step_overrides")?;
    }
    Ok(out)
}

/// Mappings merge key by key, all the way down; anything else is replaced.
fn deep_merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, patch) => *base = patch,
    }
}

fn convert(value: Value, environment: &str) -> Result<Template, String> {
    let t: TaskerTemplate = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let steps = t
        .step_templates
        .into_iter()
        .map(step)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(named) = &t.named_steps {
        let mut named: Vec<&str> = named.iter().map(String::as_str).collect();
        let mut actual: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        named.sort_unstable();
        actual.sort_unstable();
        if named != actual {
            return Err(format!(
                "named_steps {named:?} must name exactly the step_templates {actual:?}"
            ));
        }
    }
    Ok(Template {
        namespace: t.namespace_name,
        name: t.name,
        version: t.version.unwrap_or_else(|| DEFAULT_VERSION.to_string()),
        description: t.description,
        steps,
        context_schema: t.schema,
        default_context: t.default_context,
        default_options: t.default_options,
        handler_config: t.handler_config,
        concurrency: None,
        tasker: Some(TaskerInfo {
            module_namespace: t.module_namespace,
            task_handler_class: t.task_handler_class,
            default_dependent_system: t.default_dependent_system,
            named_steps: t.named_steps,
            custom_events: t.custom_events,
            environment: environment.to_string(),
        }),
    })
}

fn step(s: TaskerStep) -> Result<StepTemplate, String> {
    let limit = retry_limit(&s)?;
    let mut depends_on: Vec<String> = s.depends_on_step.into_iter().collect();
    for dep in s.depends_on_steps {
        if !depends_on.contains(&dep) {
            depends_on.push(dep);
        }
    }
    let extras = TaskerStepInfo {
        skippable: s.skippable,
        dependent_system: s.dependent_system,
        custom_events: s.custom_events,
    };
    Ok(StepTemplate {
        name: s.name,
        handler: s.handler_class,
        step_type: None,
        description: s.description,
        depends_on,
        config: s.handler_config.unwrap_or_else(super::model::empty_object),
        retry: RetryPolicy {
            // i32: MAX_RETRY_LIMIT + 1 fits.
            max_attempts: Some(limit as i32 + 1),
            retryable: Some(s.default_retryable.unwrap_or(true)),
            ..RetryPolicy::default()
        },
        timeout_seconds: s.timeout_seconds,
        tasker: (extras != TaskerStepInfo::default()).then_some(extras),
    })
}

fn retry_limit(s: &TaskerStep) -> Result<i64, String> {
    let at = format!("step {:?}: default_retry_limit", s.name);
    let limit = match &s.default_retry_limit {
        None => DEFAULT_RETRY_LIMIT,
        Some(RetryLimit::Number(n)) => *n,
        Some(RetryLimit::Text(text)) => text
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("{at} must be an integer, got {text:?}"))?,
    };
    if (0..=MAX_RETRY_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(format!(
            "{at} must be between 0 and {MAX_RETRY_LIMIT} (retries after the first attempt), got {limit}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "name": "square", "namespace_name": "math",
            "step_templates": [
                {"name": "a", "handler_class": "Math::Square"},
                {"name": "b", "handler_class": "Math::Square", "depends_on_step": "a",
                 "handler_config": {"factor": 2, "url": "http://dev"}},
                {"name": "c", "handler_class": "Math::Square", "depends_on_step": "a",
                 "depends_on_steps": ["b", "a"], "default_retry_limit": "5",
                 "default_retryable": false, "skippable": true}
            ]
        })
    }

    #[test]
    fn maps_keys_onto_the_native_model() {
        let t = read(base(), "development").unwrap();
        assert_eq!(t.label(), "math/square@1.0.0");
        assert_eq!(t.steps[0].handler, "Math::Square");
        assert_eq!(t.steps[0].retry.max_attempts, Some(4));
        assert_eq!(t.steps[0].retry.retryable, Some(true));
        assert_eq!(t.steps[2].depends_on, vec!["a", "b"]);
        assert_eq!(t.steps[2].retry.max_attempts, Some(6));
        assert_eq!(t.steps[2].retry.retryable, Some(false));
        assert_eq!(t.steps[2].tasker.as_ref().unwrap().skippable, Some(true));
        assert_eq!(t.tasker.unwrap().environment, "development");
    }

    #[test]
    fn applies_the_current_environment_only() {
        let mut v = base();
        v["environments"] = json!({
            "production": {"step_templates": [{"name": "b", "handler_config": {"url": "http://prod"}}]},
            "test": {"step_overrides": {"b": {"retry_limit": 0}}}
        });
        let prod = read(v.clone(), "production").unwrap();
        assert_eq!(
            prod.steps[1].config,
            json!({"factor": 2, "url": "http://prod"})
        );
        let test = read(v.clone(), "test").unwrap();
        assert_eq!(test.steps[1].config["url"], "http://dev");
        assert_eq!(test.steps[1].retry.max_attempts, Some(1));
        assert_eq!(
            read(v, "staging").unwrap().steps[1].config["url"],
            "http://dev"
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let mut v = base();
        v["step_templates"][0]["handler"] = json!("X");
        assert!(read(v, "development")
            .unwrap_err()
            .contains("unknown field `handler`"));
        let mut v = base();
        v["default_dependent_systm"] = json!("x");
        assert!(read(v, "development")
            .unwrap_err()
            .contains("default_dependent_systm"));
        let mut v = base();
        v["step_templates"][1]["default_retry_limit"] = json!("three");
        let err = read(v, "development").unwrap_err();
        assert!(
            err.contains(r#"step "b": default_retry_limit must be an integer"#),
            "{err}"
        );
        let mut v = base();
        v["named_steps"] = json!(["a", "b"]);
        assert!(read(v, "development").unwrap_err().contains("named_steps"));
        let mut v = base();
        v["environments"] = json!({"production": {"step_templates": [{"name": "zzz"}]}});
        let err = read(v, "development").unwrap_err();
        assert!(
            err.contains(r#"environments.production: step_templates[0] names unknown step "zzz""#),
            "{err}"
        );
        let mut v = base();
        v["environments"] = json!({"qa": {"step_templates": [{"name": "a", "retries": 1}]}});
        assert!(read(v, "development")
            .unwrap_err()
            .contains("unknown field `retries`"));
    }
}
