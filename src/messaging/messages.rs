//! Message bodies. Results and contexts stay raw JSON text end to end (serde_json's
//! RawValue): the core never needs to look inside them, and integers of any size survive.

use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResultStatus {
    Success,
    Failure,
}

/// What a worker reports on `tasker_step_results`.
#[derive(Debug, Deserialize)]
pub struct StepResult {
    pub step_uuid: Uuid,
    pub attempt: i32,
    pub status: StepResultStatus,
    #[serde(default)]
    pub result: Option<Box<RawValue>>,
    #[serde(default)]
    pub error: Option<StepError>,
    #[serde(default)]
    pub metadata: Option<Box<RawValue>>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// What the handler attached to its result (a Tasker call result's `metadata`); kept in
    /// the step's audit trail and shown by the status as `result_metadata`.
    #[serde(default)]
    pub handler_metadata: Option<Box<RawValue>>,
    /// The worker gave up on the step's message (read too many times, undecodable): the
    /// step fails whatever attempt it is on.
    #[serde(default)]
    pub poison: bool,
    /// A decision step's choice: the names of the direct dependents that run.
    #[serde(default)]
    pub choose: Option<Vec<String>>,
    /// A fan_out step's elements when they differ from its result (TaskerCore::FanOut).
    #[serde(default)]
    pub items: Option<Box<RawValue>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct StepError {
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default = "default_true")]
    pub retryable: bool,
    #[serde(default)]
    pub retry_after: Option<f64>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub backtrace: Vec<String>,
    /// Details the handler attached to its error (TaskerCore::Errors' `context:`), kept as
    /// written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Box<RawValue>>,
}

fn default_true() -> bool {
    true
}

impl StepResult {
    pub fn parse(body: &str) -> Result<Self, String> {
        let parsed: StepResult = serde_json::from_str(body).map_err(|e| e.to_string())?;
        if parsed.attempt < 1 {
            return Err(format!("attempt must be >= 1, got {}", parsed.attempt));
        }
        if parsed.status == StepResultStatus::Failure && parsed.error.is_none() {
            return Err("a failure result needs an error object".into());
        }
        Ok(parsed)
    }
}

/// A task request (Ruby's create_task, or a message on `tasker_task_requests`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub context: Option<Box<RawValue>>,
    #[serde(default)]
    pub initiator: Option<String>,
    #[serde(default)]
    pub source_system: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// When the task starts: no step message is visible before then (None or a past time: at
    /// once). create_task's `delay:` arrives here as a time too.
    #[serde(default)]
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The uuid the task gets, chosen by the caller (create_task(..., connection:), which
    /// answers with it before the task exists); None: a new v7 uuid at creation.
    #[serde(default)]
    pub task_uuid: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_survive_as_text() {
        let r = StepResult::parse(
            r#"{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":1,
                "status":"success","result":18446744073709551616}"#,
        )
        .unwrap();
        assert_eq!(r.result.unwrap().get(), "18446744073709551616");
    }

    #[test]
    fn rejects_wrong_shapes_with_a_reason() {
        assert!(StepResult::parse("not json").is_err());
        assert!(StepResult::parse(r#"{"attempt":1,"status":"success"}"#)
            .unwrap_err()
            .contains("step_uuid"));
        let no_err = r#"{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":1,"status":"failure"}"#;
        assert!(StepResult::parse(no_err)
            .unwrap_err()
            .contains("error object"));
        let bad_status =
            r#"{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":1,"status":"ok"}"#;
        assert!(StepResult::parse(bad_status).is_err());
    }
}
