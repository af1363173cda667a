//! Decision and fan_out results (DESIGN.md, "Dynamic workflows"): what a successful result
//! of such a step does besides completing it, decided here from the result alone, then
//! written in the result's own transaction once the step's move to complete happened (so
//! exactly once, however often the result is delivered): the unchosen dependents move to
//! skipped through the one step writer; a fan_out's instances are created by one statement
//! for the whole batch (sql/expand_fan_outs.sql).

use serde_json::value::RawValue;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::messaging::messages::StepResult;
use crate::state::StepState;
use crate::store::steps::{move_steps, StepMove};
use crate::templates::StepType;

/// What a decision or fan_out result does once its step completed.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    /// A task step: nothing more.
    Nothing,
    /// The decision step's direct dependents not named here are skipped.
    Choose { step: Uuid, chosen: Vec<String> },
    /// The fan_out step's direct dependents are instantiated once per element.
    Expand { step: Uuid, items: String },
}

/// The plan for a successful result of a step of this type, or why the step fails
/// permanently instead (the error names what was wrong).
pub(super) fn plan(
    step_name: &str,
    step_type: &str,
    children: &[String],
    result: &StepResult,
    max_fan_out: i32,
) -> std::result::Result<Plan, String> {
    match StepType::parse(step_type).unwrap_or(StepType::Task) {
        StepType::Task => Ok(Plan::Nothing),
        StepType::Decision => {
            let Some(chosen) = &result.choose else {
                return Err(format!(
                    "decision step {step_name:?} must return TaskerCore::Decision \
                     (the names of the dependents to run)"
                ));
            };
            if let Some(bad) = chosen.iter().find(|c| !children.contains(c)) {
                return Err(format!(
                    "decision step {step_name:?} chose {bad:?}, which is not one of its \
                     direct dependents {children:?}"
                ));
            }
            Ok(Plan::Choose {
                step: result.step_uuid,
                chosen: chosen.clone(),
            })
        }
        StepType::FanOut => {
            let raw = result
                .items
                .as_deref()
                .or(result.result.as_deref())
                .map_or("null", RawValue::get);
            let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(raw) else {
                return Err(format!(
                    "fan_out step {step_name:?} must return an Array (or TaskerCore::FanOut), \
                     got {}",
                    kind_of(raw)
                ));
            };
            if elements.len() > max_fan_out.max(0) as usize {
                return Err(format!(
                    "fan_out step {step_name:?} returned {} elements; max_fan_out is {max_fan_out}",
                    elements.len()
                ));
            }
            Ok(Plan::Expand {
                step: result.step_uuid,
                items: raw.to_string(),
            })
        }
    }
}

/// The JSON type of a value, for an error message.
fn kind_of(raw: &str) -> &'static str {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Null) => "nil",
        Ok(serde_json::Value::Bool(_)) => "a boolean",
        Ok(serde_json::Value::Number(_)) => "a number",
        Ok(serde_json::Value::String(_)) => "a String",
        Ok(serde_json::Value::Object(_)) => "a Hash",
        _ => "something else",
    }
}

/// Writes the plans of the steps whose move to complete happened: every skip in one call of
/// the step writer, every fan_out's instances in one statement. Returns the steps whose state
/// or parents it changed (the skipped, the instances, the templates' dependents), which the
/// enqueue must ask about besides the batch's own moves.
pub(super) async fn apply(conn: &mut PgConnection, plans: &[Plan]) -> Result<Vec<Uuid>> {
    let mut deciders: Vec<Uuid> = Vec::new();
    let mut chosen: Vec<String> = Vec::new();
    let mut fan_outs: Vec<Uuid> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for p in plans {
        match p {
            Plan::Nothing => {}
            Plan::Choose { step, chosen: c } => {
                deciders.push(*step);
                chosen.push(serde_json::to_string(c)?);
            }
            Plan::Expand { step, items: i } => {
                fan_outs.push(*step);
                items.push(i.clone());
            }
        }
    }
    let mut changed = Vec::new();
    if !deciders.is_empty() {
        changed.extend(skip_unchosen(conn, &deciders, &chosen).await?);
    }
    if !fan_outs.is_empty() {
        let created: Vec<Uuid> =
            sqlx::query_scalar("SELECT tasker.expand_fan_outs($1, $2::jsonb[])")
                .bind(&fan_outs)
                .bind(&items)
                .fetch_one(&mut *conn)
                .await?;
        changed.extend(created);
    }
    Ok(changed)
}

/// The pending direct dependents of these decision steps that their choice left out move to
/// skipped; skipping spreads to their own dependents when the task advances
/// (sql/enqueue_ready.sql). Returns the steps skipped.
async fn skip_unchosen(
    conn: &mut PgConnection,
    deciders: &[Uuid],
    chosen: &[String],
) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid, i32, String)> = sqlx::query_as(
        "SELECT c.step_uuid, c.attempts, d.name
           FROM unnest($1::uuid[], $2::jsonb[]) AS x(decider, chosen)
           JOIN tasker.workflow_steps d ON d.step_uuid = x.decider
           JOIN tasker.workflow_step_edges e ON e.from_step = x.decider
           JOIN tasker.workflow_steps c ON c.step_uuid = e.to_step
          WHERE c.state = 'pending' AND NOT (x.chosen ? c.name)
          ORDER BY c.step_uuid",
    )
    .bind(deciders)
    .bind(chosen)
    .fetch_all(&mut *conn)
    .await?;
    let moves: Vec<StepMove> = rows
        .iter()
        .map(|(uuid, attempts, decider)| {
            StepMove::new(
                *uuid,
                StepState::Pending,
                *attempts,
                StepState::Skipped,
                &format!("not chosen by decision step {decider}"),
            )
        })
        .collect();
    let moved = move_steps(conn, &moves).await?;
    Ok(moved.into_iter().map(|m| m.step_uuid).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(extra: &str) -> StepResult {
        StepResult::parse(&format!(
            r#"{{"step_uuid":"0190a4b2-0000-7000-8000-000000000001","attempt":1,"status":"success"{extra}}}"#
        ))
        .unwrap()
    }

    fn kids() -> Vec<String> {
        vec!["auto".into(), "manual".into()]
    }

    #[test]
    fn a_task_step_plans_nothing() {
        assert_eq!(
            plan("a", "task", &[], &result(r#","result":[1]"#), 10),
            Ok(Plan::Nothing)
        );
    }

    #[test]
    fn a_decision_chooses_among_its_direct_dependents() {
        let ok = plan(
            "route",
            "decision",
            &kids(),
            &result(r#","choose":["manual"]"#),
            10,
        );
        assert_eq!(
            ok,
            Ok(Plan::Choose {
                step: result("").step_uuid,
                chosen: vec!["manual".into()]
            })
        );
        assert!(plan("route", "decision", &kids(), &result(r#","choose":[]"#), 10).is_ok());
        let bad = plan(
            "route",
            "decision",
            &kids(),
            &result(r#","choose":["nope"]"#),
            10,
        )
        .unwrap_err();
        assert!(
            bad.contains(r#"chose "nope""#) && bad.contains(r#"["auto", "manual"]"#),
            "{bad}"
        );
        let missing =
            plan("route", "decision", &kids(), &result(r#","result":1"#), 10).unwrap_err();
        assert!(
            missing.contains("must return TaskerCore::Decision"),
            "{missing}"
        );
    }

    #[test]
    fn a_fan_out_needs_an_array_within_the_limit() {
        let ok = plan("split", "fan_out", &[], &result(r#","result":[1,2,3]"#), 3).unwrap();
        assert!(matches!(ok, Plan::Expand { ref items, .. } if items == "[1,2,3]"));
        let own = plan(
            "split",
            "fan_out",
            &[],
            &result(r#","result":{"n":2},"items":["a","b"]"#),
            3,
        )
        .unwrap();
        assert!(matches!(own, Plan::Expand { ref items, .. } if items == r#"["a","b"]"#));
        let over = plan(
            "split",
            "fan_out",
            &[],
            &result(r#","result":[1,2,3,4]"#),
            3,
        )
        .unwrap_err();
        assert!(
            over.contains("returned 4 elements; max_fan_out is 3"),
            "{over}"
        );
        let hash = plan("split", "fan_out", &[], &result(r#","result":{"a":1}"#), 3).unwrap_err();
        assert!(
            hash.contains("must return an Array") && hash.contains("a Hash"),
            "{hash}"
        );
    }
}
