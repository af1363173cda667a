//! A template's `context_schema` (the Tasker format's `schema`): a JSON Schema checked when
//! the template is registered and enforced on every task's context by create_task.

use serde_json::Value;

/// Why the schema itself cannot be used; None when it can.
pub fn schema_problem(schema: &Value) -> Option<String> {
    if let Err(e) = jsonschema::meta::validate(schema) {
        return Some(format!(
            "context_schema is not a valid JSON Schema: {} at {} ({})",
            e,
            pointer(e.instance_path.as_str()),
            rule(e.schema_path.as_str())
        ));
    }
    jsonschema::validator_for(schema)
        .err()
        .map(|e| format!("context_schema cannot be used: {e}"))
}

/// Every way `context` fails `schema`, each as "<JSON pointer>: <problem> (<rule>)", in
/// the order the validator finds them; empty when it matches.
pub fn violations(schema: &Value, context: &Value) -> Result<Vec<String>, String> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| format!("context_schema cannot be used: {e}"))?;
    Ok(validator
        .iter_errors(context)
        .map(|e| {
            format!(
                "{}: {} ({})",
                pointer(e.instance_path.as_str()),
                e,
                rule(e.schema_path.as_str())
            )
        })
        .collect())
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        "(root)".to_string()
    } else {
        path.to_string()
    }
}

/// The schema keyword that failed: the last part of its schema path.
fn rule(schema_path: &str) -> &str {
    schema_path.rsplit('/').next().unwrap_or(schema_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_pointer_and_rule() {
        let schema = json!({
            "type": "object", "required": ["order_id"],
            "properties": {"order_id": {"type": "integer"},
                           "items": {"type": "array", "minItems": 1}}
        });
        let found = violations(&schema, &json!({"items": []})).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found
            .iter()
            .any(|v| v.starts_with("(root): ") && v.ends_with("(required)")));
        assert!(found
            .iter()
            .any(|v| v.starts_with("/items: ") && v.ends_with("(minItems)")));
        assert!(violations(&schema, &json!({"order_id": 7, "items": [1]}))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn refuses_a_schema_that_is_not_one() {
        assert!(schema_problem(&json!({"type": "object"})).is_none());
        let bad = schema_problem(&json!({"type": "objekt"})).unwrap();
        assert!(bad.contains("not a valid JSON Schema"), "{bad}");
        let regex = schema_problem(&json!({"type": "string", "pattern": "(unclosed"})).unwrap();
        assert!(regex.contains("context_schema"), "{regex}");
    }
}
