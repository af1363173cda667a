//! Task creation: the task, its steps and edges, and the root steps' messages, in one
//! transaction.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use tracing::{info, instrument};
use uuid::Uuid;

use super::settle::advance;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::messaging::queue::{delete, validate_namespace};
use crate::messaging::TaskRequest;
use crate::state::TaskState;
use crate::templates::{lineage, Template};

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
    let (named_task_id, version, template) = find_template(&mut tx, req).await?;
    let task_uuid = Uuid::now_v7();
    let context = req.context.as_ref().map(|c| c.get()).unwrap_or("{}");
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, context,
                                   initiator, source_system, reason, tags, priority, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING task_uuid",
    )
    .bind(task_uuid)
    .bind(named_task_id)
    .bind(&req.namespace)
    .bind(&req.name)
    .bind(&version)
    .bind(context)
    .bind(&req.initiator)
    .bind(&req.source_system)
    .bind(&req.reason)
    .bind(&req.tags)
    .bind(req.priority)
    .bind(&req.idempotency_key)
    .fetch_optional(&mut *tx)
    .await?;

    let Some(task_uuid) = inserted else {
        let existing = existing_task(&mut tx, req).await?;
        if let Some(c) = consume {
            delete(&mut tx, c.queue, c.msg_id).await?;
        }
        tx.commit().await?;
        return Ok(existing);
    };

    insert_steps(&mut tx, config, task_uuid, &template).await?;
    sqlx::query(
        "INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason)
         VALUES ($1, NULL, 'pending', 'task created')",
    )
    .bind(task_uuid)
    .execute(&mut *tx)
    .await?;
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

async fn find_template(
    conn: &mut PgConnection,
    req: &TaskRequest,
) -> Result<(i64, String, Template)> {
    let row: Option<(i64, String, sqlx::types::Json<Template>)> = sqlx::query_as(
        "SELECT named_task_id, version, template FROM tasker.named_tasks
          WHERE namespace = $1 AND name = $2 AND ($3::text IS NULL OR version = $3)
          ORDER BY created_at DESC, named_task_id DESC
          LIMIT 1",
    )
    .bind(&req.namespace)
    .bind(&req.name)
    .bind(&req.version)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, version, template)) = row {
        return Ok((id, version, template.0));
    }
    let known: Vec<String> = sqlx::query_scalar(
        "SELECT version FROM tasker.named_tasks WHERE namespace = $1 AND name = $2 ORDER BY version",
    )
    .bind(&req.namespace)
    .bind(&req.name)
    .fetch_all(&mut *conn)
    .await?;
    let wanted = match &req.version {
        Some(v) => format!("{}/{}@{v}", req.namespace, req.name),
        None => format!("{}/{}", req.namespace, req.name),
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

async fn existing_task(conn: &mut PgConnection, req: &TaskRequest) -> Result<CreatedTask> {
    let (task_uuid, namespace, name, version, state): (Uuid, String, String, String, String) =
        sqlx::query_as(
            "SELECT task_uuid, namespace, name, version, state FROM tasker.tasks
              WHERE idempotency_key = $1",
        )
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

/// Materializes the template's steps and edges for one task (three statements, any size).
async fn insert_steps(
    conn: &mut PgConnection,
    config: &Config,
    task_uuid: Uuid,
    template: &Template,
) -> Result<()> {
    let ids: Vec<Uuid> = template.steps.iter().map(|_| Uuid::now_v7()).collect();
    let n = template.steps.len();
    let mut names = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    let mut handlers = Vec::with_capacity(n);
    let mut configs = Vec::with_capacity(n);
    let mut max_attempts = Vec::with_capacity(n);
    let mut retryable = Vec::with_capacity(n);
    let mut base = Vec::with_capacity(n);
    let mut cap = Vec::with_capacity(n);
    let mut timeouts = Vec::with_capacity(n);
    let mut parents = Vec::with_capacity(n);
    let mut ancestors = Vec::with_capacity(n);
    for (lineage, _) in lineage(template).into_iter().zip(&template.steps) {
        // Postgres arrays of arrays must be rectangular: each list travels as one JSON text.
        parents.push(serde_json::to_string(&lineage.parents)?);
        ancestors.push(serde_json::to_string(&lineage.ancestors)?);
    }
    for (i, s) in template.steps.iter().enumerate() {
        names.push(s.name.clone());
        positions.push(i as i32);
        handlers.push(s.handler.clone());
        configs.push(s.config.to_string());
        max_attempts.push(s.retry.max_attempts.unwrap_or(config.default_max_attempts));
        retryable.push(s.retry.retryable.unwrap_or(true));
        let b = s
            .retry
            .backoff_base_seconds
            .unwrap_or(config.backoff_base_seconds);
        base.push(b);
        cap.push(
            s.retry
                .max_backoff_seconds
                .unwrap_or(config.max_backoff_seconds)
                .max(b),
        );
        timeouts.push(s.timeout_seconds.unwrap_or(config.visibility_timeout));
    }
    sqlx::query(
        "INSERT INTO tasker.workflow_steps
            (step_uuid, task_uuid, name, position, handler, config, max_attempts, retryable,
             backoff_base_seconds, max_backoff_seconds, timeout_seconds, depends_on, ancestors)
         SELECT u, $2, nm, pos, h, c::jsonb, ma, r, b, mb, t,
                ARRAY(SELECT jsonb_array_elements_text(p::jsonb)),
                ARRAY(SELECT jsonb_array_elements_text(a::jsonb))
           FROM unnest($1::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[],
                       $8::bool[], $9::float8[], $10::float8[], $11::int[], $12::text[], $13::text[])
                AS x(u, nm, pos, h, c, ma, r, b, mb, t, p, a)",
    )
    .bind(&ids)
    .bind(task_uuid)
    .bind(&names)
    .bind(&positions)
    .bind(&handlers)
    .bind(&configs)
    .bind(&max_attempts)
    .bind(&retryable)
    .bind(&base)
    .bind(&cap)
    .bind(&timeouts)
    .bind(&parents)
    .bind(&ancestors)
    .execute(&mut *conn)
    .await?;

    let index = |name: &str| template.steps.iter().position(|s| s.name == name);
    let mut from = Vec::new();
    let mut to = Vec::new();
    for (i, s) in template.steps.iter().enumerate() {
        for dep in &s.depends_on {
            let parent = index(dep).ok_or_else(|| {
                Error::Template(format!(
                    "template {}: step {:?} depends on unknown step {dep:?}",
                    template.label(),
                    s.name
                ))
            })?;
            from.push(ids[parent]);
            to.push(ids[i]);
        }
    }
    if !from.is_empty() {
        sqlx::query(
            "INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
             SELECT $1, f, t FROM unnest($2::uuid[], $3::uuid[]) AS x(f, t)",
        )
        .bind(task_uuid)
        .bind(&from)
        .bind(&to)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, reason)
         SELECT u, $2, NULL, 'pending', 'task created' FROM unnest($1::uuid[]) AS u",
    )
    .bind(&ids)
    .bind(task_uuid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
