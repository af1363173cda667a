//! Property tests of the result message decoder: it never panics, and every well-formed
//! result decodes with its fields intact.

use proptest::prelude::*;
use serde_json::json;

use super::messages::{StepResult, StepResultStatus};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(text in ".{0,300}") {
        let _ = StepResult::parse(&text);
    }

    #[test]
    fn never_panics_on_near_misses(attempt in any::<i64>(), status in "(success|failure|[a-z]{0,8})",
                                   uuid in "[0-9a-f-]{0,40}", has_error in any::<bool>()) {
        let mut body = json!({"step_uuid": uuid, "attempt": attempt, "status": status});
        if has_error {
            body["error"] = json!({"message": "x", "retryable": false});
        }
        let _ = StepResult::parse(&body.to_string());
    }

    #[test]
    fn decodes_well_formed_results(attempt in 1i32..10_000, digits in "[1-9][0-9]{0,60}", ok in any::<bool>()) {
        let body = if ok {
            format!(r#"{{"step_uuid":"01890000-0000-7000-8000-000000000000","attempt":{attempt},"status":"success","result":{digits}}}"#)
        } else {
            format!(r#"{{"step_uuid":"01890000-0000-7000-8000-000000000000","attempt":{attempt},"status":"failure","error":{{"message":"m","retryable":true,"retry_after":{digits}}}}}"#)
        };
        let parsed = StepResult::parse(&body).unwrap();
        prop_assert_eq!(parsed.attempt, attempt);
        if ok {
            prop_assert_eq!(parsed.status, StepResultStatus::Success);
            let raw = parsed.result.unwrap();
            prop_assert_eq!(raw.get(), digits.as_str());
        } else {
            prop_assert!(parsed.error.unwrap().retryable);
        }
    }
}
