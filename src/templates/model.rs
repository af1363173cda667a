use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::concurrency::Concurrency;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub namespace: String,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub steps: Vec<StepTemplate>,
    /// A JSON Schema every task's context must match (checked by create_task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_schema: Option<Value>,
    /// Merged under the context of every create_task request (the request's keys win).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub default_context: Map<String, Value>,
    /// Values for the request fields a create_task request leaves out (see DEFAULT_OPTIONS).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub default_options: Map<String, Value>,
    /// Task-level configuration, kept with the template.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub handler_config: Map<String, Value>,
    /// At most `limit` tasks with the same value at `key` in their context run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    /// What a template in the Tasker format says that the engine keeps but does not act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasker: Option<TaskerInfo>,
}

/// The create_task request fields a template's `default_options` may set.
pub const DEFAULT_OPTIONS: [&str; 4] = ["initiator", "source_system", "reason", "tags"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepTemplate {
    pub name: String,
    pub handler: String,
    /// `task` (left out), `decision` or `fan_out`: see StepType.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default = "empty_object")]
    pub config: Value,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// Tasker-format step keys kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasker: Option<TaskerStepInfo>,
}

/// What a step's handler decides besides its result (DESIGN.md, "Dynamic workflows").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepType {
    /// Runs once; its dependents run when it is done.
    Task,
    /// Chooses which of its direct dependents run; the others are skipped.
    Decision,
    /// Returns an Array; each direct dependent runs once per element.
    FanOut,
}

impl StepType {
    pub const ALL: [StepType; 3] = [StepType::Task, StepType::Decision, StepType::FanOut];

    pub fn as_str(self) -> &'static str {
        match self {
            StepType::Task => "task",
            StepType::Decision => "decision",
            StepType::FanOut => "fan_out",
        }
    }

    pub fn parse(s: &str) -> Option<StepType> {
        StepType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl StepTemplate {
    /// The step's type; an unknown one (refused by validation) reads as a task.
    pub fn kind(&self) -> StepType {
        self.step_type
            .as_deref()
            .and_then(StepType::parse)
            .unwrap_or(StepType::Task)
    }
}

pub fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// Per-step retry settings; anything left out comes from the configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_base_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

/// Task-level keys of the Tasker format that have no native meaning; kept for tooling.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskerInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_handler_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dependent_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_steps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_events: Option<Value>,
    /// The environment whose overrides were applied.
    pub environment: String,
}

/// Step-level keys of the Tasker format that have no native meaning; kept for tooling.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskerStepInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skippable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_events: Option<Value>,
}

impl Template {
    /// `namespace/name@version`, the way errors and logs name a template.
    pub fn label(&self) -> String {
        format!("{}/{}@{}", self.namespace, self.name, self.version)
    }
}
