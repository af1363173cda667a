//! Validation at registration: every problem found is reported at once, each naming the
//! template, the step and what is wrong.

use std::collections::{HashMap, HashSet};

use super::context_schema::schema_problem;
use super::lineage::lineage;
use super::model::{StepTemplate, StepType, Template, DEFAULT_OPTIONS};
use super::tasker;
use crate::error::{Error, Result};
use crate::messaging::queue::validate_namespace;
use crate::orchestration::backoff::MAX_BACKOFF_SECONDS;

pub const MAX_STEPS: usize = 500;
const MAX_ATTEMPTS_LIMIT: i32 = 1000;
const MAX_TIMEOUT_SECONDS: i32 = 86_400;

/// Parses a template from JSON text (the Ruby side turns YAML into JSON) and validates it,
/// applying the current environment's overrides to one in the Tasker format.
pub fn parse_and_validate(json: &str) -> Result<Template> {
    parse_and_validate_in(json, &tasker::current_environment())
}

/// parse_and_validate for a given environment.
pub fn parse_and_validate_in(json: &str, environment: &str) -> Result<Template> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::Template(format!("template is not valid JSON: {e}")))?;
    let label = describe(&value);
    let template: Template = if tasker::is_tasker_format(&value) {
        tasker::read(value, environment)
    } else {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
    .map_err(|e| Error::Template(format!("template {label}: {e}")))?;
    let problems = problems(&template);
    if problems.is_empty() {
        Ok(template)
    } else {
        Err(Error::Template(format!(
            "template {} is invalid: {}",
            template.label(),
            problems.join("; ")
        )))
    }
}

/// A best-effort name for a template that may not even parse.
fn describe(value: &serde_json::Value) -> String {
    let field = |k: &str| value.get(k).and_then(|v| v.as_str());
    let namespace = field("namespace").or(field("namespace_name"));
    format!(
        "{}/{}@{}",
        namespace.unwrap_or("?"),
        field("name").unwrap_or("?"),
        field("version").unwrap_or("?")
    )
}

fn is_identifier(s: &str, max: usize) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= max
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn is_constant_path(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.split("::").all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some('A'..='Z'))
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
}

/// Every problem of the template, in a stable order; empty when it is valid.
pub fn problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = validate_namespace(&t.namespace) {
        out.push(e.to_string());
    }
    if !is_identifier(&t.name, 63) {
        out.push(format!(
            "invalid task name {:?}: expected [a-z][a-z0-9_]{{0,62}}",
            t.name
        ));
    }
    if !is_version(&t.version) {
        out.push(format!(
            "invalid version {:?}: expected up to 32 of [A-Za-z0-9.+-_]",
            t.version
        ));
    }
    if t.steps.is_empty() {
        out.push("it has no steps".into());
    }
    if t.steps.len() > MAX_STEPS {
        out.push(format!(
            "it has {} steps; at most {MAX_STEPS} are allowed",
            t.steps.len()
        ));
    }
    step_problems(t, &mut out);
    task_problems(t, &mut out);
    if out.is_empty() {
        if let Some(cycle) = find_cycle(t) {
            out.push(format!("its steps form a cycle: {}", cycle.join(" -> ")));
        } else {
            dynamic_problems(t, &mut out);
        }
    }
    out
}

/// The task-level keys: the context schema and the request defaults.
fn task_problems(t: &Template, out: &mut Vec<String>) {
    if let Some(problem) = t.context_schema.as_ref().and_then(schema_problem) {
        out.push(problem);
    }
    if let Some(concurrency) = &t.concurrency {
        out.extend(concurrency.problems());
    }
    for (key, value) in &t.default_options {
        let fits = match key.as_str() {
            "tags" => value
                .as_array()
                .is_some_and(|tags| tags.iter().all(|t| t.is_string())),
            k if DEFAULT_OPTIONS.contains(&k) => value.is_string(),
            _ => {
                out.push(format!(
                    "default_options: unknown option {key:?} (expected one of {})",
                    DEFAULT_OPTIONS.join(", ")
                ));
                continue;
            }
        };
        if !fits {
            let kind = if key == "tags" {
                "a list of strings"
            } else {
                "a string"
            };
            out.push(format!("default_options.{key} must be {kind}"));
        }
    }
}

fn step_problems(t: &Template, out: &mut Vec<String>) {
    let mut seen = HashSet::new();
    let names: HashSet<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
    for step in &t.steps {
        let at = format!("step {:?}", step.name);
        if !is_identifier(&step.name, 63) {
            out.push(format!(
                "{at}: invalid step name, expected [a-z][a-z0-9_]{{0,62}}"
            ));
        }
        if !seen.insert(step.name.as_str()) {
            out.push(format!("{at}: duplicate step name"));
        }
        if !is_constant_path(&step.handler) {
            out.push(format!(
                "{at}: handler {:?} is not a Ruby class name (like Shop::ChargeCard)",
                step.handler
            ));
        }
        let mut deps = HashSet::new();
        for dep in &step.depends_on {
            if dep == &step.name {
                out.push(format!("{at}: depends on itself"));
            } else if !names.contains(dep.as_str()) {
                out.push(format!("{at}: depends on unknown step {dep:?}"));
            }
            if !deps.insert(dep) {
                out.push(format!("{at}: lists {dep:?} twice in depends_on"));
            }
        }
        if step
            .step_type
            .as_deref()
            .is_some_and(|t| StepType::parse(t).is_none())
        {
            out.push(format!(
                "{at}: type must be task, decision or fan_out, got {:?}",
                step.step_type.as_deref().unwrap_or_default()
            ));
        }
        if !step.config.is_object() {
            out.push(format!("{at}: config must be a mapping"));
        }
        if let Some(n) = step.retry.max_attempts {
            if !(1..=MAX_ATTEMPTS_LIMIT).contains(&n) {
                out.push(format!(
                    "{at}: retry.max_attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}, got {n}"
                ));
            }
        }
        for (key, v) in [
            ("backoff_base_seconds", step.retry.backoff_base_seconds),
            ("max_backoff_seconds", step.retry.max_backoff_seconds),
        ] {
            if let Some(v) = v {
                if !(v > 0.0 && v <= MAX_BACKOFF_SECONDS) {
                    out.push(format!(
                        "{at}: retry.{key} must be a positive number of seconds up to \
                         {MAX_BACKOFF_SECONDS} (one day), got {}",
                        number(v)
                    ));
                }
            }
        }
        if let Some(n) = step.timeout_seconds {
            if !(1..=MAX_TIMEOUT_SECONDS).contains(&n) {
                out.push(format!(
                    "{at}: timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}, got {n}"
                ));
            }
        }
    }
}

/// The rules of decision and fan_out steps (DESIGN.md, "Dynamic workflows").
fn dynamic_problems(t: &Template, out: &mut Vec<String>) {
    let children = |name: &str| -> Vec<&StepTemplate> {
        t.steps
            .iter()
            .filter(|s| s.depends_on.iter().any(|d| d == name))
            .collect()
    };
    let lineages = lineage(t);
    let ancestors_of = |name: &str| -> Vec<String> {
        t.steps
            .iter()
            .position(|s| s.name == name)
            .map(|i| lineages[i].ancestors.clone())
            .unwrap_or_default()
    };
    for step in &t.steps {
        let at = format!("step {:?}", step.name);
        match step.kind() {
            StepType::Task => {}
            StepType::Decision => {
                if children(&step.name).is_empty() {
                    out.push(format!(
                        "{at}: a decision step needs at least one step that depends on it"
                    ));
                }
            }
            StepType::FanOut => {
                let mut allowed = ancestors_of(&step.name);
                allowed.push(step.name.clone());
                for child in children(&step.name) {
                    let cat = format!("step {:?}", child.name);
                    if child.kind() != StepType::Task {
                        out.push(format!(
                            "{cat}: a per-element template (a direct dependent of fan_out step \
                             {:?}) may not be a {} step itself",
                            step.name,
                            child.kind().as_str()
                        ));
                    }
                    for dep in child.depends_on.iter().filter(|d| !allowed.contains(d)) {
                        out.push(format!(
                            "{cat}: a per-element template may depend only on its fan_out step \
                             {:?} and that step's ancestors, not on {dep:?}",
                            step.name
                        ));
                    }
                }
            }
        }
    }
}

/// A number as a person would write it: 1e300 rather than its 301 digits.
fn number(v: f64) -> String {
    if v != 0.0 && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A cycle among the steps, as step names (first repeated at the end), if there is one.
fn find_cycle(t: &Template) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = t
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done
    let mut mark = vec![0u8; t.steps.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..t.steps.len() {
        if mark[start] != 0 {
            continue;
        }
        // Iterative DFS over "depends on" edges: (node, next dependency to look at).
        let mut stack = vec![(start, 0usize)];
        mark[start] = 1;
        path.push(start);
        while let Some((node, next)) = stack.pop() {
            let deps = &t.steps[node].depends_on;
            if next < deps.len() {
                stack.push((node, next + 1));
                let Some(&dep) = index.get(deps[next].as_str()) else {
                    continue;
                };
                match mark[dep] {
                    0 => {
                        mark[dep] = 1;
                        path.push(dep);
                        stack.push((dep, 0));
                    }
                    1 => {
                        let from = path.iter().position(|&p| p == dep).unwrap_or(0);
                        let mut cycle: Vec<String> = path[from..]
                            .iter()
                            .map(|&i| t.steps[i].name.clone())
                            .collect();
                        cycle.push(t.steps[dep].name.clone());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                mark[node] = 2;
                path.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(steps: &str) -> String {
        format!(r#"{{"namespace":"shop","name":"order","version":"1.0.0","steps":[{steps}]}}"#)
    }

    fn step(name: &str, deps: &[&str]) -> String {
        let deps: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
        format!(
            r#"{{"name":"{name}","handler":"Shop::Step","depends_on":[{}]}}"#,
            deps.join(",")
        )
    }

    fn error_of(json: &str) -> String {
        parse_and_validate(json).unwrap_err().to_string()
    }

    fn typed(name: &str, kind: &str, deps: &[&str]) -> String {
        step(name, deps).replacen('{', &format!(r#"{{"type":"{kind}","#), 1)
    }

    #[test]
    fn checks_decision_and_fan_out_steps() {
        let ok = template(
            &[
                typed("route", "decision", &[]),
                step("auto", &["route"]),
                typed("split", "fan_out", &["auto"]),
                step("chunk", &["split", "route"]),
                step("sum", &["chunk"]),
            ]
            .join(","),
        );
        let t = parse_and_validate(&ok).unwrap();
        assert_eq!(t.steps[2].kind(), StepType::FanOut);
        assert_eq!(t.steps[4].kind(), StepType::Task);

        let err = error_of(&template(&typed("a", "branch", &[])));
        assert!(err.contains("shop/order@1.0.0"), "{err}");
        assert!(
            err.contains(r#"step "a": type must be task, decision or fan_out, got "branch""#),
            "{err}"
        );
        let err = error_of(&template(&typed("a", "decision", &[])));
        assert!(
            err.contains(r#"step "a": a decision step needs at least one step that depends on it"#),
            "{err}"
        );
        let nested = template(
            &[
                typed("split", "fan_out", &[]),
                typed("inner", "fan_out", &["split"]),
                step("x", &["inner"]),
            ]
            .join(","),
        );
        let err = error_of(&nested);
        assert!(
            err.contains(r#"step "inner": a per-element template (a direct dependent of fan_out step "split") may not be a fan_out step itself"#),
            "{err}"
        );
        let outside = template(
            &[
                step("other", &[]),
                typed("split", "fan_out", &[]),
                step("chunk", &["split", "other"]),
            ]
            .join(","),
        );
        let err = error_of(&outside);
        assert!(
            err.contains(r#"step "chunk": a per-element template may depend only on its fan_out step "split" and that step's ancestors, not on "other""#),
            "{err}"
        );
    }

    #[test]
    fn accepts_a_diamond() {
        let json = template(
            &[
                step("a", &[]),
                step("b", &["a"]),
                step("c", &["a"]),
                step("d", &["b", "c"]),
            ]
            .join(","),
        );
        let t = parse_and_validate(&json).unwrap();
        assert_eq!(t.steps.len(), 4);
        assert_eq!(t.label(), "shop/order@1.0.0");
    }

    #[test]
    fn names_the_template_step_and_problem() {
        let err = error_of(&template(&[step("a", &[]), step("b", &["zzz"])].join(",")));
        assert!(err.contains("shop/order@1.0.0"), "{err}");
        assert!(
            err.contains(r#"step "b": depends on unknown step "zzz""#),
            "{err}"
        );
    }

    #[test]
    fn rejects_duplicates_self_dependencies_and_cycles() {
        let dup = error_of(&template(&[step("a", &[]), step("a", &[])].join(",")));
        assert!(dup.contains(r#"step "a": duplicate step name"#), "{dup}");

        let own = error_of(&template(&step("a", &["a"])));
        assert!(own.contains("depends on itself"), "{own}");

        let cyc = error_of(&template(
            &[step("a", &["c"]), step("b", &["a"]), step("c", &["b"])].join(","),
        ));
        assert!(cyc.contains("cycle"), "{cyc}");
        assert!(
            cyc.contains("a") && cyc.contains("b") && cyc.contains("c"),
            "{cyc}"
        );
    }

    #[test]
    fn rejects_unsafe_namespace_and_step_names() {
        let json = r#"{"namespace":"x'; DROP TABLE tasks; --","name":"order","version":"1",
                      "steps":[{"name":"Bad Name","handler":"system('rm')"}]}"#;
        let err = error_of(json);
        assert!(err.contains("invalid namespace"), "{err}");
        assert!(err.contains("invalid step name"), "{err}");
        assert!(err.contains("is not a Ruby class name"), "{err}");
        let long = format!(
            r#"{{"namespace":"{}","name":"o","version":"1","steps":[{}]}}"#,
            "n".repeat(60),
            step("a", &[])
        );
        assert!(error_of(&long).contains("invalid namespace"));
    }

    #[test]
    fn rejects_unknown_keys_and_bad_numbers() {
        let typo = template(r#"{"name":"a","handler":"A","depend_on":["b"]}"#);
        assert!(error_of(&typo).contains("unknown field `depend_on`"));
        let bad = template(
            r#"{"name":"a","handler":"A","retry":{"max_attempts":0},"timeout_seconds":0}"#,
        );
        let err = error_of(&bad);
        assert!(err.contains("max_attempts must be between"), "{err}");
        assert!(err.contains("timeout_seconds must be between"), "{err}");
        assert!(error_of(&template("")).contains("no steps"));
    }

    #[test]
    fn caps_backoff_at_one_day() {
        let retry = |policy: &str| {
            template(&format!(
                r#"{{"name":"charge","handler":"A","retry":{{{policy}}}}}"#
            ))
        };
        let day = retry(r#""backoff_base_seconds":86400,"max_backoff_seconds":86400"#);
        assert!(parse_and_validate(&day).is_ok());
        for (key, value) in [
            ("backoff_base_seconds", "1e300"),
            ("max_backoff_seconds", "1e308"),
            ("max_backoff_seconds", "86400.5"),
            ("backoff_base_seconds", "0"),
            ("max_backoff_seconds", "-1"),
        ] {
            let err = error_of(&retry(&format!(r#""{key}":{value}"#)));
            assert!(err.contains("shop/order@1.0.0"), "{err}");
            assert!(
                err.contains(&format!(r#"step "charge": retry.{key} must be"#)),
                "{err}"
            );
            assert!(err.contains("up to 86400 (one day)"), "{err}");
            assert!(err.len() < 300, "{err}");
        }
        assert!(error_of(&retry(r#""max_backoff_seconds":1e308"#)).contains("got 1e308"));
    }

    #[test]
    fn reads_the_tasker_format_through_the_same_checks() {
        let tasker = r#"{"name":"order","namespace_name":"shop","step_templates":[
            {"name":"a","handler_class":"Shop::A","depends_on_step":"b"},
            {"name":"b","handler_class":"Shop::B","depends_on_steps":["a"]}]}"#;
        let err = parse_and_validate_in(tasker, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shop/order@1.0.0 is invalid"), "{err}");
        assert!(err.contains("cycle"), "{err}");
        let typo = r#"{"name":"order","namespace_name":"shop","step_templates":[
            {"name":"a","handler_class":"Shop::A","retry_limit":1}]}"#;
        let err = parse_and_validate_in(typo, "test").unwrap_err().to_string();
        assert!(
            err.contains("shop/order@?: unknown field `retry_limit`"),
            "{err}"
        );
    }

    #[test]
    fn checks_default_options_and_the_context_schema() {
        let with = |extra: &str| {
            format!(
                r#"{{"namespace":"shop","name":"order","version":"1",{extra},
                    "steps":[{{"name":"a","handler":"A"}}]}}"#
            )
        };
        let ok = with(
            r#""default_options":{"initiator":"me","tags":["x"]},"context_schema":{"type":"object"}"#,
        );
        assert!(parse_and_validate(&ok).is_ok());
        let err = error_of(&with(
            r#""default_options":{"priority":1,"tags":"x","reason":2},"context_schema":{"type":"objekt"}"#,
        ));
        assert!(
            err.contains(r#"default_options: unknown option "priority""#),
            "{err}"
        );
        assert!(
            err.contains("default_options.tags must be a list of strings"),
            "{err}"
        );
        assert!(
            err.contains("default_options.reason must be a string"),
            "{err}"
        );
        assert!(
            err.contains("context_schema is not a valid JSON Schema"),
            "{err}"
        );
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let steps: Vec<String> = (0..MAX_STEPS)
            .map(|i| {
                if i == 0 {
                    step("s0", &[])
                } else {
                    step(&format!("s{i}"), &[&format!("s{}", i - 1)])
                }
            })
            .collect();
        assert!(parse_and_validate(&template(&steps.join(","))).is_ok());
    }
}
