//! Recurring schedules (tasker.schedules): register (an upsert by name), list, remove, and
//! the orchestrators' firing of due ones. Each fire time becomes one task, whose idempotency
//! key is made of the schedule's name and that fire time, so two orchestrators firing the same
//! time (or one firing again after a crash) create it once.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::types::Json;
use sqlx::PgPool;
use tracing::{info, warn};
use uuid::Uuid;

use super::tasks::{create_task, find_template};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::messaging::queue::validate_namespace;
use crate::messaging::TaskRequest;
use crate::schedules::CronSchedule;

/// How many upcoming fire times a listing shows.
const UPCOMING: usize = 3;
/// Due schedules one pass of the loop fires at most (the rest on the next pass).
const FIRE_BATCH: i64 = 50;

/// What register_schedule takes.
#[derive(Debug, Deserialize)]
pub struct ScheduleRequest {
    pub name: String,
    pub namespace: String,
    #[serde(rename = "task_name")]
    pub task_name: String,
    #[serde(default)]
    pub version: Option<String>,
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

fn utc() -> String {
    "UTC".into()
}

/// One schedule as listed.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Schedule {
    pub name: String,
    pub namespace: String,
    pub task_name: String,
    pub version: Option<String>,
    pub cron: String,
    pub timezone: String,
    pub context: Json<serde_json::Value>,
    pub next_fire_at: DateTime<Utc>,
    pub last_fired_at: Option<DateTime<Utc>>,
    pub last_task_uuid: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub upcoming: Vec<DateTime<Utc>>,
}

const COLUMNS: &str = "name, namespace, task_name, version, cron, timezone, context, next_fire_at,
                       last_fired_at, last_task_uuid, created_at, updated_at";

/// Checks the request (cron, timezone, template) and writes it. A schedule registered again
/// with the same cron and timezone keeps its next fire time; otherwise the first fire is the
/// first fire time after now.
pub async fn register(pool: &PgPool, req: &ScheduleRequest) -> Result<Schedule> {
    if req.name.trim().is_empty() {
        return Err(Error::InvalidArgument(
            "schedule name must not be empty".into(),
        ));
    }
    validate_namespace(&req.namespace)?;
    let cron = CronSchedule::parse(&req.cron, &req.timezone)
        .map_err(|e| Error::InvalidArgument(format!("schedule {:?}: {e}", req.name)))?;
    let mut tx = pool.begin().await?;
    find_template(
        &mut tx,
        &req.namespace,
        &req.task_name,
        req.version.as_deref(),
    )
    .await
    .map_err(|e| match e {
        Error::NotFound(m) => Error::NotFound(format!("schedule {:?}: {m}", req.name)),
        other => other,
    })?;
    let next = cron.next_after(Utc::now())?;
    let context = serde_json::Value::Object(req.context.clone().unwrap_or_default());
    let mut row: Schedule = sqlx::query_as(&format!(
        "INSERT INTO tasker.schedules (name, namespace, task_name, version, cron, timezone, context,
                                       next_fire_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET
           namespace = EXCLUDED.namespace, task_name = EXCLUDED.task_name,
           version = EXCLUDED.version, context = EXCLUDED.context, updated_at = now(),
           next_fire_at = CASE WHEN tasker.schedules.cron = EXCLUDED.cron
                                AND tasker.schedules.timezone = EXCLUDED.timezone
                               THEN tasker.schedules.next_fire_at ELSE EXCLUDED.next_fire_at END,
           cron = EXCLUDED.cron, timezone = EXCLUDED.timezone
         RETURNING {COLUMNS}"
    ))
    .bind(&req.name)
    .bind(&req.namespace)
    .bind(&req.task_name)
    .bind(&req.version)
    .bind(&req.cron)
    .bind(&req.timezone)
    .bind(Json(context))
    .bind(next)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.upcoming = upcoming(&row)?;
    info!(schedule = %row.name, next_fire_at = %row.next_fire_at, "schedule registered");
    Ok(row)
}

/// Every schedule, by name, with its next fire times.
pub async fn list(pool: &PgPool) -> Result<Vec<Schedule>> {
    let mut rows: Vec<Schedule> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tasker.schedules ORDER BY name"
    ))
    .fetch_all(pool)
    .await?;
    for row in &mut rows {
        row.upcoming = upcoming(row)?;
    }
    Ok(rows)
}

/// False when no schedule has that name.
pub async fn remove(pool: &PgPool, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM tasker.schedules WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

fn upcoming(row: &Schedule) -> Result<Vec<DateTime<Utc>>> {
    let cron = CronSchedule::parse(&row.cron, &row.timezone)?;
    let mut out = vec![row.next_fire_at];
    out.extend(cron.upcoming(row.next_fire_at, UPCOMING - 1)?);
    Ok(out)
}

/// The idempotency key of a schedule's task for one fire time.
pub fn fire_key(name: &str, fire_at: DateTime<Utc>) -> String {
    format!(
        "schedule:{name}:{}",
        fire_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// Fires every due schedule no other orchestrator is firing (SKIP LOCKED): a task per due fire
/// time (at most `schedule_catch_up` of them, the latest, after downtime), then the next fire
/// time after now, in the transaction that holds the schedule's row. Returns the tasks created.
pub async fn fire_due(pool: &PgPool, config: &Config) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let due: Vec<Schedule> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tasker.schedules WHERE next_fire_at <= now()
          ORDER BY next_fire_at LIMIT $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(FIRE_BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let now = Utc::now();
    let mut created = 0;
    for schedule in due {
        let cron = match CronSchedule::parse(&schedule.cron, &schedule.timezone) {
            Ok(c) => c,
            Err(e) => {
                warn!(schedule = %schedule.name, error = %e, "schedule cannot be read; not fired");
                continue;
            }
        };
        let times = cron.due(
            schedule.next_fire_at,
            now,
            config.schedule_catch_up as usize,
        )?;
        let mut last_task = schedule.last_task_uuid;
        for fire_at in &times {
            match create_task(pool, config, &fire_request(&schedule, *fire_at)?, None).await {
                Ok(task) => {
                    created += usize::from(task.created);
                    last_task = Some(task.task_uuid);
                }
                Err(e) => warn!(schedule = %schedule.name, %fire_at, error = %e,
                                "schedule fire could not create its task"),
            }
        }
        let next = cron.next_after(now)?;
        sqlx::query(
            "UPDATE tasker.schedules SET next_fire_at = $2, last_fired_at = $3, last_task_uuid = $4
              WHERE name = $1",
        )
        .bind(&schedule.name)
        .bind(next)
        .bind(times.last())
        .bind(last_task)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(created)
}

fn fire_request(schedule: &Schedule, fire_at: DateTime<Utc>) -> Result<TaskRequest> {
    Ok(TaskRequest {
        namespace: schedule.namespace.clone(),
        name: schedule.task_name.clone(),
        version: schedule.version.clone(),
        context: Some(RawValue::from_string(serde_json::to_string(
            &schedule.context.0,
        )?)?),
        initiator: Some("schedule".into()),
        source_system: Some("tasker-core".into()),
        reason: Some(format!(
            "schedule {} fired for {}",
            schedule.name,
            fire_at.to_rfc3339()
        )),
        tags: vec![format!("schedule:{}", schedule.name)],
        priority: 0,
        idempotency_key: Some(fire_key(&schedule.name, fire_at)),
        run_at: None,
        task_uuid: None,
    })
}
