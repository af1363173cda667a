//! Task creation: the task, its steps and edges, and the root steps' messages, in one
//! transaction.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use tracing::{info, instrument, warn};
use uuid::Uuid;

use super::settle::advance;
use super::step_columns::StepColumns;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::messaging::queue::{delete, validate_namespace};
use crate::messaging::TaskRequest;
use crate::state::TaskState;
use crate::templates::{context_violations, Template};

/// What create_task hands back.
#[derive(Debug, Serialize)]
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
    let mut tx = pool.begin().await?;
    let (named_task_id, version, template) =
        find_template(&mut tx, &req.namespace, &req.name, req.version.as_deref()).await?;
    let req = &with_defaults(req, &template)?;
    let task_uuid = req.task_uuid.unwrap_or_else(Uuid::now_v7);
    let inserted = insert_task(
        &mut tx,
        config,
        task_uuid,
        named_task_id,
        &version,
        &template,
        req,
    )
    .await?;
    if !inserted {
        let existing = existing_task(&mut tx, task_uuid, req).await?;
        if existing.task_uuid != task_uuid && req.task_uuid.is_some() {
            return Err(Error::InvalidArgument(format!(
                "idempotency_key {:?} already names task {} (this request asked for task {task_uuid})",
                req.idempotency_key.as_deref().unwrap_or_default(),
                existing.task_uuid
            )));
        }
        if let Some(c) = consume {
            delete(&mut tx, c.queue, c.msg_id).await?;
        }
        tx.commit().await?;
        return Ok(existing);
    }
    let state = advance(&mut tx, task_uuid, TaskState::Pending, "task created").await?;
    if let Some(c) = consume {
        delete(&mut tx, c.queue, c.msg_id).await?;
    }
    tx.commit().await?;
    info!(%task_uuid, "task created");
    Ok(CreatedTask {
        task_uuid,
        namespace: req.namespace.clone(),
        name: req.name.clone(),
        version,
        state: state.to_string(),
        created: true,
    })
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

/// The task a request's insert conflicted with: the one with its uuid (the same request
/// applied again), else the one with its idempotency key.
async fn existing_task(
    conn: &mut PgConnection,
    task_uuid: Uuid,
    req: &TaskRequest,
) -> Result<CreatedTask> {
    let (task_uuid, namespace, name, version, state): (Uuid, String, String, String, String) =
        sqlx::query_as(
            "SELECT task_uuid, namespace, name, version, state FROM tasker.tasks
              WHERE task_uuid = $1 OR idempotency_key = $2
              ORDER BY task_uuid = $1 DESC LIMIT 1",
        )
        .bind(task_uuid)
        .bind(&req.idempotency_key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(CreatedTask {
        task_uuid,
        namespace,
        name,
        version,
        state,
        created: false,
    })
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

/// The task, its steps and edges and their first audit rows, in ONE statement of any size.
/// Returns false (and writes nothing) when the idempotency key or the uuid names an existing
/// task.
async fn insert_task(
    conn: &mut PgConnection,
    config: &Config,
    task_uuid: Uuid,
    named_task_id: i64,
    version: &str,
    template: &Template,
    req: &TaskRequest,
) -> Result<bool> {
    let c = StepColumns::new(config, template)?;
    let context = req.context.as_ref().map(|c| c.get()).unwrap_or("{}");
    let default_context = serde_json::to_string(&template.default_context)?;
    let (key, limit) = concurrency_key(template, req)?.unzip();
    // The steps' foreign key to their task is checked at the end of the statement, once the
    // task row is in; if the task is not inserted (idempotency key taken), nothing else is.
    let created: Option<i64> = sqlx::query_scalar(
        "WITH task AS (
           INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, context,
                                     initiator, source_system, reason, tags, priority, idempotency_key, run_at,
                                     concurrency_key, concurrency_limit)
           VALUES ($2, $16, $17, $18, $19, $27::jsonb || $20::jsonb, $21, $22, $23, $24, $25, $26,
                   $28, $29, $30)
           ON CONFLICT DO NOTHING
           RETURNING task_uuid),
         steps AS (
           INSERT INTO tasker.workflow_steps
              (step_uuid, task_uuid, name, position, handler, config, max_attempts, retryable,
               backoff_base_seconds, max_backoff_seconds, timeout_seconds, depends_on, ancestors,
               step_type)
           SELECT u, task.task_uuid, nm, pos, h, c::jsonb, ma, r, b, mb, t,
                  ARRAY(SELECT jsonb_array_elements_text(p::jsonb)),
                  ARRAY(SELECT jsonb_array_elements_text(a::jsonb)), ty
             FROM task, unnest($1::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[],
                               $8::bool[], $9::float8[], $10::float8[], $11::int[], $12::text[],
                               $13::text[], $31::text[])
                        AS x(u, nm, pos, h, c, ma, r, b, mb, t, p, a, ty)),
         edges AS (
           INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
           SELECT task.task_uuid, f, t FROM task, unnest($14::uuid[], $15::uuid[]) AS x(f, t)),
         step_audit AS (
           INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, reason)
           SELECT u, task.task_uuid, NULL, 'pending', 'task created' FROM task, unnest($1::uuid[]) AS u)
         INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason)
         SELECT task_uuid, NULL, 'pending', 'task created' FROM task
         RETURNING 1::bigint",
    )
    .bind(&c.ids)
    .bind(task_uuid)
    .bind(&c.names)
    .bind(&c.positions)
    .bind(&c.handlers)
    .bind(&c.configs)
    .bind(&c.max_attempts)
    .bind(&c.retryable)
    .bind(&c.base)
    .bind(&c.cap)
    .bind(&c.timeouts)
    .bind(&c.parents)
    .bind(&c.ancestors)
    .bind(&c.from)
    .bind(&c.to)
    .bind(named_task_id)
    .bind(&req.namespace)
    .bind(&req.name)
    .bind(version)
    .bind(context)
    .bind(&req.initiator)
    .bind(&req.source_system)
    .bind(&req.reason)
    .bind(&req.tags)
    .bind(req.priority)
    .bind(&req.idempotency_key)
    .bind(default_context)
    .bind(req.run_at)
    .bind(key)
    .bind(limit)
    .bind(&c.types)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(created.is_some())
}
