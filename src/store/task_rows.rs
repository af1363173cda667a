//! A batch of new tasks as the columns of the one statement that writes them (tasks::
//! insert_tasks): one entry per task, and for every step and edge the uuid of its task. Also
//! which requests of a batch name a task an earlier request of the same batch creates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::step_columns::StepColumns;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::messaging::TaskRequest;
use crate::templates::Template;

/// What every task of one template version shares: its steps' columns and its default
/// context, made once per batch.
pub struct Blueprint {
    pub named_task_id: i64,
    pub version: String,
    pub template: Template,
    pub steps: StepColumns,
    pub default_context: String,
}

impl Blueprint {
    pub fn new(
        config: &Config,
        named_task_id: i64,
        version: String,
        template: Template,
    ) -> Result<Blueprint> {
        Ok(Blueprint {
            named_task_id,
            steps: StepColumns::new(config, &template)?,
            default_context: serde_json::to_string(&template.default_context)?,
            version,
            template,
        })
    }
}

/// The columns of a batch's task, step and edge rows, in request order.
#[derive(Default)]
pub struct TaskRows {
    pub task_uuids: Vec<Uuid>,
    pub named_task_ids: Vec<i64>,
    pub namespaces: Vec<String>,
    pub names: Vec<String>,
    pub versions: Vec<String>,
    /// JSON texts: the template's default context, merged under the request's
    pub default_contexts: Vec<String>,
    pub contexts: Vec<String>,
    pub initiators: Vec<Option<String>>,
    pub source_systems: Vec<Option<String>>,
    pub reasons: Vec<Option<String>>,
    /// each task's tags as a JSON array (PostgreSQL arrays of arrays must be rectangular)
    pub tags: Vec<String>,
    pub priorities: Vec<i32>,
    pub idempotency_keys: Vec<Option<String>>,
    pub run_ats: Vec<Option<DateTime<Utc>>>,
    pub concurrency_keys: Vec<Option<String>>,
    pub concurrency_limits: Vec<Option<i32>>,
    pub steps: StepRows,
    /// the edges' task, parent step and child step
    pub edge_tasks: Vec<Uuid>,
    pub edge_from: Vec<Uuid>,
    pub edge_to: Vec<Uuid>,
}

/// Every task's step rows one after the other, each with its task's uuid and its own step
/// uuid; the other columns are its template's (StepColumns, edges left empty).
#[derive(Default)]
pub struct StepRows {
    pub tasks: Vec<Uuid>,
    pub ids: Vec<Uuid>,
    pub columns: StepColumns,
}

impl TaskRows {
    /// Adds one task (its request with the template's defaults applied) with fresh step uuids.
    pub fn push(
        &mut self,
        task_uuid: Uuid,
        blueprint: &Blueprint,
        req: &TaskRequest,
        concurrency: Option<(String, i32)>,
    ) -> Result<()> {
        self.task_uuids.push(task_uuid);
        self.named_task_ids.push(blueprint.named_task_id);
        self.namespaces.push(req.namespace.clone());
        self.names.push(req.name.clone());
        self.versions.push(blueprint.version.clone());
        self.default_contexts
            .push(blueprint.default_context.clone());
        self.contexts
            .push(req.context.as_ref().map_or("{}", |c| c.get()).to_string());
        self.initiators.push(req.initiator.clone());
        self.source_systems.push(req.source_system.clone());
        self.reasons.push(req.reason.clone());
        self.tags.push(serde_json::to_string(&req.tags)?);
        self.priorities.push(req.priority);
        self.idempotency_keys.push(req.idempotency_key.clone());
        self.run_ats.push(req.run_at);
        let (key, limit) = concurrency.unzip();
        self.concurrency_keys.push(key);
        self.concurrency_limits.push(limit);
        let ids: Vec<Uuid> = (0..blueprint.steps.step_count())
            .map(|_| Uuid::now_v7())
            .collect();
        self.steps.push(task_uuid, &ids, &blueprint.steps);
        for &(from, to) in &blueprint.steps.edges {
            self.edge_tasks.push(task_uuid);
            self.edge_from.push(ids[from]);
            self.edge_to.push(ids[to]);
        }
        Ok(())
    }
}

impl StepRows {
    fn push(&mut self, task_uuid: Uuid, ids: &[Uuid], c: &StepColumns) {
        self.tasks.extend(ids.iter().map(|_| task_uuid));
        self.ids.extend_from_slice(ids);
        self.columns.append(c);
    }
}

/// For each request of a batch, the earlier request whose task it names (the same task_uuid,
/// else the same idempotency_key), or None when it asks for a task of its own. A request
/// that chose its task_uuid and shares its key with an earlier request of another uuid is
/// refused (Err with its index), as create_task refuses it against an existing task.
pub fn same_as_earlier(
    reqs: &[TaskRequest],
) -> std::result::Result<Vec<Option<usize>>, (usize, Error)> {
    let mut by_uuid: HashMap<Uuid, usize> = HashMap::new();
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(reqs.len());
    for (i, req) in reqs.iter().enumerate() {
        let same_uuid = req.task_uuid.and_then(|u| by_uuid.get(&u).copied());
        let key = req.idempotency_key.as_deref();
        let same_key = key.and_then(|k| by_key.get(k).copied());
        let earlier = same_uuid.or(same_key);
        if let (None, Some(j), Some(uuid)) = (same_uuid, same_key, req.task_uuid) {
            return Err((
                i,
                Error::InvalidArgument(format!(
                    "idempotency_key {:?} already names the task of request {j} \
                     (this request asked for task {uuid})",
                    key.unwrap_or_default()
                )),
            ));
        }
        if earlier.is_none() {
            if let Some(u) = req.task_uuid {
                by_uuid.insert(u, i);
            }
            if let Some(k) = key {
                by_key.insert(k, i);
            }
        }
        out.push(earlier);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::parse_and_validate;

    fn request(key: Option<&str>, uuid: Option<Uuid>) -> TaskRequest {
        serde_json::from_value(serde_json::json!({
            "namespace": "ns", "name": "t", "idempotency_key": key, "task_uuid": uuid,
            "tags": ["a", "b"], "context": {"x": 1}
        }))
        .unwrap()
    }

    #[test]
    fn later_requests_with_an_earlier_key_or_uuid_name_the_first() {
        let u = Uuid::now_v7();
        let reqs = [
            request(Some("k"), None),
            request(None, None),
            request(Some("k"), None),
            request(None, Some(u)),
            request(Some("j"), Some(u)),
            request(Some("j"), None),
            request(None, None),
        ];
        assert_eq!(
            same_as_earlier(&reqs).unwrap(),
            [None, None, Some(0), None, Some(3), None, None]
        );
    }

    #[test]
    fn a_chosen_uuid_whose_key_an_earlier_request_holds_is_refused_with_its_index() {
        let reqs = [
            request(Some("k"), None),
            request(Some("k"), Some(Uuid::now_v7())),
        ];
        let (i, err) = same_as_earlier(&reqs).unwrap_err();
        assert_eq!(i, 1);
        assert!(err
            .to_string()
            .contains("already names the task of request 0"));
    }

    #[test]
    fn each_step_and_edge_row_carries_its_own_task_and_fresh_step_uuids() {
        let template = parse_and_validate(
            r#"{"namespace":"ns","name":"t","version":"1","default_context":{"d":2},
                "steps":[{"name":"a","handler":"A"},{"name":"b","handler":"B","depends_on":["a"]}]}"#,
        )
        .unwrap();
        let config = Config::for_url("postgres://x@y/z");
        let blueprint = Blueprint::new(&config, 7, "1".into(), template).unwrap();
        let mut rows = TaskRows::default();
        let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
        rows.push(t1, &blueprint, &request(Some("k"), None), None)
            .unwrap();
        rows.push(t2, &blueprint, &request(None, None), Some(("c".into(), 2)))
            .unwrap();
        assert_eq!(rows.task_uuids, [t1, t2]);
        assert_eq!(rows.default_contexts, [r#"{"d":2}"#, r#"{"d":2}"#]);
        assert_eq!(rows.contexts, [r#"{"x":1}"#, r#"{"x":1}"#]);
        assert_eq!(rows.tags, [r#"["a","b"]"#, r#"["a","b"]"#]);
        assert_eq!(rows.idempotency_keys, [Some("k".into()), None]);
        assert_eq!(rows.concurrency_limits, [None, Some(2)]);
        assert_eq!(rows.steps.tasks, [t1, t1, t2, t2]);
        assert_eq!(rows.steps.columns.names, ["a", "b", "a", "b"]);
        assert_eq!(rows.steps.columns.positions, [0, 1, 0, 1]);
        let distinct: std::collections::HashSet<_> = rows.steps.ids.iter().collect();
        assert_eq!(distinct.len(), 4);
        assert_eq!(rows.edge_tasks, [t1, t2]);
        assert_eq!(rows.edge_from, [rows.steps.ids[0], rows.steps.ids[2]]);
        assert_eq!(rows.edge_to, [rows.steps.ids[1], rows.steps.ids[3]]);
    }
}
