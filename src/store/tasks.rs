//! Task creation: the tasks, their steps and edges, and the root steps' messages, in one
//! transaction, for one request (create_task) or a batch (create_tasks) alike.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use tracing::{info, instrument, warn};
use uuid::Uuid;

use super::pool;
use super::settle::advance_all;
use super::task_rows::{same_as_earlier, Blueprint, TaskRows};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::messaging::queue::{delete, validate_namespace};
use crate::messaging::TaskRequest;
use crate::state::TaskState;
use crate::templates::{context_violations, Template};

/// What create_task hands back.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedTask {
    pub task_uuid: Uuid,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub state: String,
    /// false when an idempotency key matched an existing task
    pub created: bool,
}

/// A request message to consume in the same transaction (tasker_task_requests).
pub struct Consume<'a> {
    pub queue: &'a str,
    pub msg_id: i64,
}

#[instrument(skip_all, fields(namespace = %req.namespace, name = %req.name))]
pub async fn create_task(
    pool: &PgPool,
    config: &Config,
    req: &TaskRequest,
    consume: Option<Consume<'_>>,
) -> Result<CreatedTask> {
    check_request(req)?;
    let mut tx = pool.begin_with(pool::BEGIN_KEY_LOOKUPS).await?;
    let mut created = create_all(&mut tx, config, std::slice::from_ref(req), |_, e| e).await?;
    if let Some(c) = consume {
        delete(&mut tx, c.queue, c.msg_id).await?;
    }
    tx.commit().await?;
    created
        .pop()
        .ok_or_else(|| Error::Orchestrator("create_task created no task".into()))
}

/// Many tasks in one transaction (TaskerCore.create_tasks): every request is checked before
/// anything is written, and an error names the request by its index ("create_tasks[3]: ...").
/// Returns the tasks in request order; an idempotency key (or task uuid) another request of
/// the batch used first, or an existing task holds, answers with that task (created: false).
/// `max_batch` is the caller's max_create_batch (a shared client keeps the configuration it
/// was made with).
#[instrument(skip_all, fields(requests = reqs.len()))]
pub async fn create_tasks(
    pool: &PgPool,
    config: &Config,
    reqs: &[TaskRequest],
    max_batch: u32,
) -> Result<Vec<CreatedTask>> {
    if reqs.len() > max_batch as usize {
        return Err(Error::InvalidArgument(format!(
            "create_tasks got {} requests; the setting max_create_batch allows at most {max_batch} per call",
            reqs.len(),
        )));
    }
    if reqs.is_empty() {
        return Ok(Vec::new());
    }
    let at = |i: usize, e: Error| e.prefixed(&format!("create_tasks[{i}]: "));
    for (i, req) in reqs.iter().enumerate() {
        check_request(req).map_err(|e| at(i, e))?;
    }
    let mut tx = pool.begin_with(pool::BEGIN_KEY_LOOKUPS).await?;
    let created = create_all(&mut tx, config, reqs, at).await?;
    tx.commit().await?;
    Ok(created)
}

/// One request of a batch that gets a task row of its own (unless an existing task holds its
/// uuid or key).
struct Own {
    index: usize,
    task_uuid: Uuid,
    blueprint: usize,
}

/// The tasks of checked requests, inside the caller's transaction: templates looked up once
/// per distinct (namespace, name, version), the rows written by one statement, the new tasks
/// advanced together. `at` names the request of an error about one request.
async fn create_all(
    conn: &mut PgConnection,
    config: &Config,
    reqs: &[TaskRequest],
    at: impl Fn(usize, Error) -> Error,
) -> Result<Vec<CreatedTask>> {
    let earlier = same_as_earlier(reqs).map_err(|(i, e)| at(i, e))?;
    let mut blueprints: Vec<Blueprint> = Vec::new();
    let mut by_template: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
    let mut rows = TaskRows::default();
    let mut own = Vec::new();
    for (index, req) in reqs.iter().enumerate() {
        if earlier[index].is_some() {
            continue;
        }
        let wanted = (
            req.namespace.as_str(),
            req.name.as_str(),
            req.version.as_deref(),
        );
        let blueprint = match by_template.get(&wanted) {
            Some(&b) => b,
            None => {
                let (id, version, template) = find_template(conn, wanted.0, wanted.1, wanted.2)
                    .await
                    .map_err(|e| at(index, e))?;
                blueprints
                    .push(Blueprint::new(config, id, version, template).map_err(|e| at(index, e))?);
                by_template.insert(wanted, blueprints.len() - 1);
                blueprints.len() - 1
            }
        };
        let b = &blueprints[blueprint];
        let req = with_defaults(req, &b.template).map_err(|e| at(index, e))?;
        let concurrency = concurrency_key(&b.template, &req).map_err(|e| at(index, e))?;
        let task_uuid = req.task_uuid.unwrap_or_else(Uuid::now_v7);
        rows.push(task_uuid, b, &req, concurrency)?;
        own.push(Own {
            index,
            task_uuid,
            blueprint,
        });
    }
    let inserted = insert_tasks(conn, &rows).await?;
    let (new, old): (Vec<&Own>, Vec<&Own>) =
        own.iter().partition(|o| inserted.contains(&o.task_uuid));
    let existing = existing_tasks(conn, reqs, &old, &at).await?;
    let started: Vec<(Uuid, TaskState)> = new
        .iter()
        .map(|o| (o.task_uuid, TaskState::Pending))
        .collect();
    let states = advance_all(conn, &started, None, "task created").await?;
    let mut answers: HashMap<usize, CreatedTask> = existing;
    for (o, state) in new.iter().zip(states) {
        let req = &reqs[o.index];
        info!(task_uuid = %o.task_uuid, "task created");
        answers.insert(
            o.index,
            CreatedTask {
                task_uuid: o.task_uuid,
                namespace: req.namespace.clone(),
                name: req.name.clone(),
                version: blueprints[o.blueprint].version.clone(),
                state: state.to_string(),
                created: true,
            },
        );
    }
    (0..reqs.len())
        .map(|i| {
            let first = earlier[i].unwrap_or(i);
            let answer = answers.get(&first).ok_or_else(|| {
                Error::Orchestrator(format!("create_tasks[{i}]: no task was created or found"))
            })?;
            Ok(CreatedTask {
                created: answer.created && first == i,
                ..answer.clone()
            })
        })
        .collect()
}

fn check_request(req: &TaskRequest) -> Result<()> {
    validate_namespace(&req.namespace)?;
    if req.name.is_empty() {
        return Err(Error::InvalidArgument("task name must not be empty".into()));
    }
    if let Some(ctx) = &req.context {
        if !ctx.get().trim_start().starts_with('{') {
            return Err(Error::InvalidArgument(format!(
                "context for {}/{} must be a JSON object (a Hash)",
                req.namespace, req.name
            )));
        }
    }
    if req.idempotency_key.as_deref() == Some("") {
        return Err(Error::InvalidArgument(
            "idempotency_key must not be empty (leave it nil for none)".into(),
        ));
    }
    Ok(())
}

/// The request with the template's default_options filled in where it left them out, its
/// context checked against the template's context_schema (default_context included).
fn with_defaults(req: &TaskRequest, template: &Template) -> Result<TaskRequest> {
    let mut out = req.clone();
    let text = |key: &str| {
        template
            .default_options
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    out.initiator = out.initiator.or_else(|| text("initiator"));
    out.source_system = out.source_system.or_else(|| text("source_system"));
    out.reason = out.reason.or_else(|| text("reason"));
    if out.tags.is_empty() {
        if let Some(tags) = template
            .default_options
            .get("tags")
            .and_then(|v| v.as_array())
        {
            out.tags = tags
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
        }
    }
    if let Some(schema) = &template.context_schema {
        check_context(req, template, schema)?;
    }
    Ok(out)
}

fn check_context(req: &TaskRequest, template: &Template, schema: &serde_json::Value) -> Result<()> {
    let mut context = template.default_context.clone();
    if let Some(raw) = &req.context {
        // Only for the check: the stored context is the request's own text.
        let given: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw.get())?;
        context.extend(given);
    }
    let violations =
        context_violations(schema, &serde_json::Value::Object(context)).map_err(Error::Template)?;
    if violations.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "context for {} does not match the template's schema: {}",
        template.label(),
        violations.join("; ")
    )))
}

/// The template a request names (its latest version when none is given), or NotFound naming
/// it and the registered versions.
pub(crate) async fn find_template(
    conn: &mut PgConnection,
    namespace: &str,
    name: &str,
    version: Option<&str>,
) -> Result<(i64, String, Template)> {
    let row: Option<(i64, String, sqlx::types::Json<Template>)> = sqlx::query_as(
        "SELECT named_task_id, version, template FROM tasker.named_tasks
          WHERE namespace = $1 AND name = $2 AND ($3::text IS NULL OR version = $3)
          ORDER BY created_at DESC, named_task_id DESC
          LIMIT 1",
    )
    .bind(namespace)
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, version, template)) = row {
        return Ok((id, version, template.0));
    }
    let known: Vec<String> = sqlx::query_scalar(
        "SELECT version FROM tasker.named_tasks WHERE namespace = $1 AND name = $2 ORDER BY version",
    )
    .bind(namespace)
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let wanted = match version {
        Some(v) => format!("{namespace}/{name}@{v}"),
        None => format!("{namespace}/{name}"),
    };
    Err(Error::NotFound(if known.is_empty() {
        format!(
            "no template registered for {wanted} (register it with TaskerCore.register_templates!)"
        )
    } else {
        format!(
            "no template registered for {wanted}; registered versions: {}",
            known.join(", ")
        )
    }))
}

/// The tasks the inserts of these requests conflicted with, by request index: for each, the
/// one with its uuid (the same request applied again), else the one with its idempotency key.
/// A request that chose its uuid and whose key names another task is refused.
async fn existing_tasks(
    conn: &mut PgConnection,
    reqs: &[TaskRequest],
    conflicted: &[&Own],
    at: impl Fn(usize, Error) -> Error,
) -> Result<HashMap<usize, CreatedTask>> {
    if conflicted.is_empty() {
        return Ok(HashMap::new());
    }
    let uuids: Vec<Uuid> = conflicted.iter().map(|o| o.task_uuid).collect();
    let keys: Vec<&str> = conflicted
        .iter()
        .filter_map(|o| reqs[o.index].idempotency_key.as_deref())
        .collect();
    let rows: Vec<(Uuid, String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT task_uuid, namespace, name, version, state, idempotency_key FROM tasker.tasks
          WHERE task_uuid = ANY($1) OR idempotency_key = ANY($2)",
    )
    .bind(&uuids)
    .bind(&keys)
    .fetch_all(&mut *conn)
    .await?;
    let mut found = HashMap::new();
    for o in conflicted {
        let req = &reqs[o.index];
        let row = rows
            .iter()
            .find(|r| r.0 == o.task_uuid)
            .or_else(|| {
                rows.iter()
                    .find(|r| r.5.is_some() && r.5 == req.idempotency_key)
            })
            .ok_or_else(|| {
                at(
                    o.index,
                    Error::NotFound(format!(
                        "task {} conflicted with a task that no longer exists",
                        o.task_uuid
                    )),
                )
            })?;
        if row.0 != o.task_uuid && req.task_uuid.is_some() {
            return Err(at(
                o.index,
                Error::InvalidArgument(format!(
                    "idempotency_key {:?} already names task {} (this request asked for task {})",
                    req.idempotency_key.as_deref().unwrap_or_default(),
                    row.0,
                    o.task_uuid
                )),
            ));
        }
        found.insert(
            o.index,
            CreatedTask {
                task_uuid: row.0,
                namespace: row.1.clone(),
                name: row.2.clone(),
                version: row.3.clone(),
                state: row.4.clone(),
                created: false,
            },
        );
    }
    Ok(found)
}

/// The task's concurrency key and limit, when its template declares one and its context has
/// the key. A context without it runs unlimited, which is logged once per template (and
/// process).
fn concurrency_key(template: &Template, req: &TaskRequest) -> Result<Option<(String, i32)>> {
    let Some(concurrency) = &template.concurrency else {
        return Ok(None);
    };
    let context: Option<serde_json::Value> = req
        .context
        .as_ref()
        .map(|raw| serde_json::from_str(raw.get()))
        .transpose()?;
    let key = concurrency.key_value(context.as_ref(), &template.default_context);
    if key.is_none() {
        static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
        let label = template.label();
        let first = WARNED
            .get_or_init(Default::default)
            .lock()
            .map(|mut seen| seen.insert(label.clone()))
            .unwrap_or(false);
        if first {
            warn!(
                template = %label,
                key = %concurrency.key,
                "a task's context has no concurrency key {}: such tasks run unlimited \
                 (logged once per template)",
                concurrency.key
            );
        }
    }
    Ok(key.map(|k| (k, concurrency.limit)))
}

/// The tasks, their steps and edges and their first audit rows, in ONE statement for the
/// whole batch. Returns the uuids of the tasks inserted: a task whose idempotency key or uuid
/// names an existing task is not, and nothing of it is written.
async fn insert_tasks(conn: &mut PgConnection, rows: &TaskRows) -> Result<HashSet<Uuid>> {
    let s = &rows.steps;
    // The steps' foreign key to their task is checked at the end of the statement, once the
    // task rows are in; the steps, edges and audit rows of a task not inserted are left out
    // by the joins to `task`.
    let created: Vec<Uuid> = sqlx::query_scalar(
        "WITH task AS (
           INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, context,
                                     initiator, source_system, reason, tags, priority, idempotency_key, run_at,
                                     concurrency_key, concurrency_limit)
           SELECT u, nt, ns, nm, v, dc::jsonb || c::jsonb, i, ss, r,
                  ARRAY(SELECT jsonb_array_elements_text(tg::jsonb)), p, k, ra, ck, cl
             FROM unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[],
                         $13::text[], $14::timestamptz[], $15::text[], $16::int[])
                  AS x(u, nt, ns, nm, v, dc, c, i, ss, r, tg, p, k, ra, ck, cl)
            -- In key order: two batches that share keys wait for each other's inserts in the
            -- same order, never in a cycle (a deadlock).
            ORDER BY k, u
           ON CONFLICT DO NOTHING
           RETURNING task_uuid),
         step AS (
           SELECT x.* FROM unnest($17::uuid[], $18::uuid[], $19::text[], $20::int[], $21::text[],
                                  $22::text[], $23::int[], $24::bool[], $25::float8[], $26::float8[],
                                  $27::int[], $28::text[], $29::text[], $30::text[])
                  AS x(tu, u, nm, pos, h, c, ma, r, b, mb, t, p, a, ty)
             JOIN task ON task.task_uuid = x.tu),
         steps AS (
           INSERT INTO tasker.workflow_steps
              (step_uuid, task_uuid, name, position, handler, config, max_attempts, retryable,
               backoff_base_seconds, max_backoff_seconds, timeout_seconds, depends_on, ancestors,
               step_type)
           SELECT u, tu, nm, pos, h, c::jsonb, ma, r, b, mb, t,
                  ARRAY(SELECT jsonb_array_elements_text(p::jsonb)),
                  ARRAY(SELECT jsonb_array_elements_text(a::jsonb)), ty
             FROM step),
         edges AS (
           INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
           SELECT x.tu, x.f, x.t FROM unnest($31::uuid[], $32::uuid[], $33::uuid[]) AS x(tu, f, t)
             JOIN task ON task.task_uuid = x.tu),
         step_audit AS (
           INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, reason)
           SELECT u, tu, NULL, 'pending', 'task created' FROM step)
         INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason)
         SELECT task_uuid, NULL, 'pending', 'task created' FROM task
         RETURNING task_uuid",
    )
    .bind(&rows.task_uuids)
    .bind(&rows.named_task_ids)
    .bind(&rows.namespaces)
    .bind(&rows.names)
    .bind(&rows.versions)
    .bind(&rows.default_contexts)
    .bind(&rows.contexts)
    .bind(&rows.initiators)
    .bind(&rows.source_systems)
    .bind(&rows.reasons)
    .bind(&rows.tags)
    .bind(&rows.priorities)
    .bind(&rows.idempotency_keys)
    .bind(&rows.run_ats)
    .bind(&rows.concurrency_keys)
    .bind(&rows.concurrency_limits)
    .bind(&s.tasks)
    .bind(&s.ids)
    .bind(&s.columns.names)
    .bind(&s.columns.positions)
    .bind(&s.columns.handlers)
    .bind(&s.columns.configs)
    .bind(&s.columns.max_attempts)
    .bind(&s.columns.retryable)
    .bind(&s.columns.base)
    .bind(&s.columns.cap)
    .bind(&s.columns.timeouts)
    .bind(&s.columns.parents)
    .bind(&s.columns.ancestors)
    .bind(&s.columns.types)
    .bind(&rows.edge_tasks)
    .bind(&rows.edge_from)
    .bind(&rows.edge_to)
    .fetch_all(&mut *conn)
    .await?;
    Ok(created.into_iter().collect())
}
