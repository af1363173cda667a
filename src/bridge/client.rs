//! TaskerCore::Internal::Client: the calls any process can make (no orchestrator needed).

use std::time::Duration;

use magnus::{
    function, prelude::*, Error as RbError, RArray, RHash, RModule, Ruby, Value as RbValue,
};

use super::errors::to_ruby;
use super::nogvl::block_on;
use super::{config, define_module};
use crate::error::Error;
use crate::messaging::TaskRequest;
use crate::orchestration::waiter;
use crate::runtime;
use crate::store::controls::{self, Actor};
use crate::store::results::{self, RESULT_VT};
use crate::store::{self, status::parse_uuid};
use crate::templates::parse_and_validate;

pub fn define(_ruby: &Ruby, internal: &RModule) -> Result<(), RbError> {
    let m = define_module(internal, "Client")?;
    m.define_module_function("migrate", function!(migrate, 1))?;
    m.define_module_function("validate_template", function!(validate_template, 1))?;
    m.define_module_function("register_template", function!(register_template, 2))?;
    m.define_module_function("templates", function!(templates, 1))?;
    m.define_module_function("create_task", function!(create_task, 2))?;
    m.define_module_function("create_tasks", function!(create_tasks, 2))?;
    m.define_module_function("task_status", function!(task_status, 2))?;
    m.define_module_function("wait_for_task", function!(wait_for_task, 3))?;
    m.define_module_function("cancel_task", function!(cancel_task, 3))?;
    m.define_module_function("retry_task", function!(retry_task, 3))?;
    m.define_module_function("resolve_step", function!(resolve_step, 5))?;
    m.define_module_function("process_results", function!(process_results, 2))?;
    m.define_module_function("new_task_uuid", function!(new_task_uuid, 0))?;
    m.define_module_function("pause_namespace", function!(pause_namespace, 3))?;
    m.define_module_function("resume_namespace", function!(resume_namespace, 3))?;
    m.define_module_function("paused_namespaces", function!(paused_namespaces, 1))?;
    m.define_module_function("purge", function!(purge, 4))?;
    m.define_module_function("sweep_purge", function!(sweep_purge, 2))?;
    Ok(())
}

/// Runs `work` against the configured database with the GVL released.
pub(super) fn with_client<T, F, Fut>(ruby: &Ruby, settings: RHash, work: F) -> Result<T, RbError>
where
    F: FnOnce(std::sync::Arc<runtime::Client>) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let cfg = config(ruby, settings)?;
    let client = runtime::client(&cfg).map_err(|e| to_ruby(ruby, e))?;
    block_on(ruby, work(client))?.map_err(|e| to_ruby(ruby, e.with_database(&cfg.redacted_url())))
}

fn migrate(ruby: &Ruby, settings: RHash) -> Result<bool, RbError> {
    with_client(ruby, settings, |c| async move {
        store::migrate::migrate(&c.pool).await?;
        Ok(true)
    })
}

/// Validates a template (JSON text) without a database; returns it normalized as JSON.
fn validate_template(ruby: &Ruby, json: String) -> Result<String, RbError> {
    let template = parse_and_validate(&json).map_err(|e| to_ruby(ruby, e))?;
    serde_json::to_string(&template).map_err(|e| to_ruby(ruby, Error::from(e)))
}

/// Validates and stores a template; returns "namespace/name@version".
fn register_template(ruby: &Ruby, settings: RHash, json: String) -> Result<String, RbError> {
    let template = parse_and_validate(&json).map_err(|e| to_ruby(ruby, e))?;
    with_client(ruby, settings, |c| async move {
        store::templates::register(&c.pool, &template).await?;
        Ok(template.label())
    })
}

fn templates(ruby: &Ruby, settings: RHash) -> Result<String, RbError> {
    with_client(ruby, settings, |c| async move {
        store::templates::list(&c.pool).await
    })
}

/// `request` is the TaskRequest as JSON text; returns the created task as a Hash.
fn create_task(ruby: &Ruby, settings: RHash, request: String) -> Result<RHash, RbError> {
    let req: TaskRequest = serde_json::from_str(&request).map_err(|e| {
        to_ruby(
            ruby,
            Error::InvalidArgument(format!("invalid task request: {e}")),
        )
    })?;
    let created = with_client(ruby, settings, |c| async move {
        store::tasks::create_task(&c.pool, &c.config, &req, None).await
    })?;
    serde_magnus::serialize(ruby, &created)
}

/// `requests` is a JSON array of TaskRequests; returns the tasks as Hashes, in request order,
/// all created (or found by their idempotency keys) in one transaction.
fn create_tasks(ruby: &Ruby, settings: RHash, requests: String) -> Result<RArray, RbError> {
    let reqs: Vec<TaskRequest> = serde_json::from_str(&requests).map_err(|e| {
        to_ruby(
            ruby,
            Error::InvalidArgument(format!("invalid task requests: {e}")),
        )
    })?;
    let max_batch = config(ruby, settings)?.max_create_batch;
    let created = with_client(ruby, settings, |c| async move {
        store::tasks::create_tasks(&c.pool, &c.config, &reqs, max_batch).await
    })?;
    let out = ruby.ary_new_capa(created.len());
    for task in &created {
        out.push(serde_magnus::serialize::<_, RHash>(ruby, task)?)?;
    }
    Ok(out)
}

/// A new task uuid (v7: time-ordered, like every task uuid the core makes), for a task
/// requested inside the caller's transaction (create_task(..., connection:)).
fn new_task_uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// TaskerCore.purge: the rows deleted per table, or with `dry_run` those that would be.
fn purge(
    ruby: &Ruby,
    settings: RHash,
    older_than: f64,
    batch_size: i64,
    dry_run: bool,
) -> Result<RHash, RbError> {
    let counts = with_client(ruby, settings, |c| async move {
        if dry_run {
            store::retention::purge_counts(&c.pool, older_than).await
        } else {
            store::retention::purge(&c.pool, older_than, batch_size).await
        }
    })?;
    serde_magnus::serialize(ruby, &counts)
}

/// The sweep's retention step, run once: the counts of its one batch, or nil when another
/// process holds the sweep's purge lock.
fn sweep_purge(ruby: &Ruby, settings: RHash, older_than: f64) -> Result<RbValue, RbError> {
    let counts = with_client(ruby, settings, |c| async move {
        store::retention::sweep_batch(&c.pool, older_than).await
    })?;
    match counts {
        Some(counts) => serde_magnus::serialize(ruby, &counts),
        None => Ok(ruby.qnil().as_value()),
    }
}

fn task_status(ruby: &Ruby, settings: RHash, uuid: String) -> Result<String, RbError> {
    let uuid = parse_uuid(&uuid).map_err(|e| to_ruby(ruby, e))?;
    with_client(ruby, settings, |c| async move {
        store::status::task_status(&c.pool, uuid).await
    })
}

fn wait_for_task(
    ruby: &Ruby,
    settings: RHash,
    uuid: String,
    timeout: f64,
) -> Result<String, RbError> {
    let uuid = parse_uuid(&uuid).map_err(|e| to_ruby(ruby, e))?;
    let timeout = Duration::try_from_secs_f64(timeout).map_err(|_| {
        to_ruby(
            ruby,
            Error::InvalidArgument(format!(
                "timeout must be a non-negative finite number of seconds, got {timeout}"
            )),
        )
    })?;
    with_client(ruby, settings, |c| async move {
        waiter::wait_for_task(&c.pool, &c.finished, uuid, timeout).await
    })
}

fn actor(ruby: &Ruby, hash: RHash) -> Result<Actor, RbError> {
    serde_magnus::deserialize(ruby, hash)
}

/// True when this call paused the namespace (false: it was paused already).
fn pause_namespace(
    ruby: &Ruby,
    settings: RHash,
    namespace: String,
    who: RHash,
) -> Result<bool, RbError> {
    let who = actor(ruby, who)?;
    with_client(ruby, settings, |c| async move {
        store::pauses::pause(&c.pool, &namespace, &who).await
    })
}

/// True when this call resumed the namespace (false: it was not paused).
fn resume_namespace(
    ruby: &Ruby,
    settings: RHash,
    namespace: String,
    who: RHash,
) -> Result<bool, RbError> {
    let who = actor(ruby, who)?;
    with_client(ruby, settings, |c| async move {
        store::pauses::resume(&c.pool, &namespace, &who).await
    })
}

/// The paused namespaces as JSON text (store::pauses::list).
fn paused_namespaces(ruby: &Ruby, settings: RHash) -> Result<String, RbError> {
    with_client(ruby, settings, |c| async move {
        store::pauses::list(&c.pool).await
    })
}

/// Returns the task's new state.
fn cancel_task(ruby: &Ruby, settings: RHash, uuid: String, who: RHash) -> Result<String, RbError> {
    let uuid = parse_uuid(&uuid).map_err(|e| to_ruby(ruby, e))?;
    let who = actor(ruby, who)?;
    with_client(ruby, settings, |c| async move {
        controls::cancel_task(&c.pool, uuid, &who).await
    })
}

fn retry_task(ruby: &Ruby, settings: RHash, uuid: String, who: RHash) -> Result<String, RbError> {
    let uuid = parse_uuid(&uuid).map_err(|e| to_ruby(ruby, e))?;
    let who = actor(ruby, who)?;
    with_client(ruby, settings, |c| async move {
        controls::retry_task(&c.pool, uuid, &who).await
    })
}

/// `results` is JSON text.
fn resolve_step(
    ruby: &Ruby,
    settings: RHash,
    uuid: String,
    step: String,
    results: String,
    who: RHash,
) -> Result<String, RbError> {
    let uuid = parse_uuid(&uuid).map_err(|e| to_ruby(ruby, e))?;
    serde_json::from_str::<&serde_json::value::RawValue>(&results).map_err(|e| {
        to_ruby(
            ruby,
            Error::InvalidArgument(format!("results must be JSON: {e}")),
        )
    })?;
    let who = actor(ruby, who)?;
    with_client(ruby, settings, |c| async move {
        controls::resolve_step(&c.pool, uuid, &step, &results, &who).await
    })
}

/// Applies up to `batch` result messages in one transaction, exactly as the orchestrator's
/// result consumer does (`store::results::process_batch`), in the calling thread: what
/// TaskerCore::Testing.run_task uses instead of a running orchestrator. Returns what happened
/// to each message ("completed", "retrying", "failed", "ignored", "archived").
fn process_results(ruby: &Ruby, settings: RHash, batch: i32) -> Result<Vec<String>, RbError> {
    if batch < 1 {
        return Err(to_ruby(
            ruby,
            Error::InvalidArgument(format!("batch must be at least 1, got {batch}")),
        ));
    }
    with_client(ruby, settings, move |c| async move {
        let applied = results::process_batch(
            &c.pool,
            batch,
            RESULT_VT,
            results::ResultRules::of(&c.config),
        )
        .await?;
        Ok(applied.iter().map(|a| a.label().to_string()).collect())
    })
}
