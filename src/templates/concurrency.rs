//! A template's concurrency key: `concurrency: {key: "account.id", limit: 1}`, where `key` is
//! a dot path into the task's context. At most `limit` tasks with the same value run at once
//! (the rule itself is sql/concurrency_waiting.sql); this module checks the declaration and
//! finds a context's value.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const MAX_LIMIT: i32 = 10_000;
const MAX_KEY_LEN: usize = 200;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Concurrency {
    pub key: String,
    pub limit: i32,
}

impl Concurrency {
    /// What is wrong with the declaration, each naming the field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if self.key.len() > MAX_KEY_LEN || !self.key.split('.').all(segment_ok) {
            out.push(format!(
                "concurrency.key {:?} must be a dot path of context keys (letters, digits, _ and -), \
                 like \"account.id\"",
                self.key
            ));
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            out.push(format!(
                "concurrency.limit must be between 1 and {MAX_LIMIT}, got {}",
                self.limit
            ));
        }
        out
    }

    /// The task's key, `<key>=<value>` ("account.id=7"), from the request's context or else
    /// the template's default context; None when neither has the path (or it is null).
    pub fn key_value(
        &self,
        context: Option<&Value>,
        defaults: &Map<String, Value>,
    ) -> Option<String> {
        let find = |root: &Value| {
            self.key
                .split('.')
                .try_fold(root, |v, segment| v.get(segment))
                .filter(|v| !v.is_null())
                .cloned()
        };
        let value = context
            .and_then(find)
            .or_else(|| find(&Value::Object(defaults.clone())))?;
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        Some(format!("{}={text}", self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(path: &str) -> Concurrency {
        Concurrency {
            key: path.into(),
            limit: 1,
        }
    }

    #[test]
    fn finds_the_value_by_dot_path_request_first() {
        let defaults = json!({"account": {"id": "default"}, "region": "eu"});
        let defaults = defaults.as_object().cloned().unwrap_or_default();
        let context = json!({"account": {"id": 7}});
        assert_eq!(
            key("account.id").key_value(Some(&context), &defaults),
            Some("account.id=7".into())
        );
        assert_eq!(
            key("region").key_value(Some(&context), &defaults),
            Some("region=eu".into())
        );
        assert_eq!(
            key("account.missing").key_value(Some(&context), &defaults),
            None
        );
        assert_eq!(
            key("a").key_value(Some(&json!({"a": null})), &Map::new()),
            None
        );
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(key("account.id").problems().is_empty());
        let bad = Concurrency {
            key: "account..id".into(),
            limit: 0,
        };
        let problems = bad.problems();
        assert!(problems[0].starts_with("concurrency.key \"account..id\" must be a dot path"));
        assert_eq!(
            problems[1],
            "concurrency.limit must be between 1 and 10000, got 0"
        );
    }
}
