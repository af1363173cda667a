//! Applying worker results: each step's transition, the retry's delayed message or the
//! dependents' enqueue, the task's settlement and the result messages' deletion, a batch
//! of results in one transaction.
//!
//! A batch is applied set-based (`batched`: a fixed number of statements whatever its size).
//! If that fails for a reason that is not the database's availability, the batch is rolled
//! back and read again, and each result goes through the same path alone, in a savepoint of
//! its own: a single result the database refuses is left for a later read (and archived as
//! poison after MAX_READS reads) instead of holding up the rest.

mod batched;
mod dynamic;

use std::collections::HashMap;

use sqlx::{Acquire, PgConnection, PgPool};
use tracing::{error, instrument, warn};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::events;
use crate::messaging::messages::StepResult;
use crate::messaging::{QueueMessage, RESULTS_QUEUE};
use crate::state::step::StepSnapshot;
use crate::state::{StepState, TaskState};

/// What happened to one result message (for logs and counters).
#[derive(Debug, PartialEq)]
pub enum Applied {
    Completed,
    Retrying { delay_seconds: f64 },
    Failed,
    Ignored,
    Archived(String),
}

impl Applied {
    /// One word for what happened (TaskerCore::Testing reports it).
    pub fn label(&self) -> &'static str {
        match self {
            Applied::Completed => "completed",
            Applied::Retrying { .. } => "retrying",
            Applied::Failed => "failed",
            Applied::Ignored => "ignored",
            Applied::Archived(_) => "archived",
        }
    }
}

/// The configuration a batch of results is applied with.
#[derive(Debug, Clone, Copy)]
pub struct ResultRules {
    /// backoff_jitter
    pub jitter: f64,
    /// max_fan_out
    pub max_fan_out: i32,
}

impl ResultRules {
    pub fn of(config: &crate::config::Config) -> ResultRules {
        ResultRules {
            jitter: config.backoff_jitter,
            max_fan_out: config.max_fan_out,
        }
    }
}

/// A result message read more often than this without being applied is poison.
use crate::config::RESULT_MAX_READS as MAX_READS;

/// Seconds a result read by `process_batch` stays invisible to other readers.
pub const RESULT_VT: i32 = 10;

/// The step a result belongs to, as the result processor needs it.
#[derive(sqlx::FromRow, Debug, Clone)]
struct StepRow {
    step_uuid: Uuid,
    task_uuid: Uuid,
    namespace: String,
    task_name: String,
    step_name: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    retryable: bool,
    backoff_base_seconds: f64,
    max_backoff_seconds: f64,
    task_state: String,
    /// task, decision or fan_out
    step_type: String,
    /// a decision step's direct dependents, by name (empty for other steps)
    children: Vec<String>,
}

impl StepRow {
    fn snapshot(&self) -> Result<StepSnapshot> {
        Ok(StepSnapshot {
            state: self
                .state
                .parse::<StepState>()
                .map_err(Error::Orchestrator)?,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            retryable: self.retryable,
        })
    }

    fn task_state(&self) -> Result<TaskState> {
        self.task_state
            .parse::<TaskState>()
            .map_err(Error::Orchestrator)
    }
}

/// One message read from the results queue, parsed.
struct Work {
    msg: QueueMessage,
    parsed: std::result::Result<StepResult, String>,
}

impl Work {
    /// Why the message is archived without being applied, if it is.
    fn unusable(&self) -> Option<Applied> {
        if self.msg.read_ct > MAX_READS {
            return Some(Applied::Archived(format!(
                "result message {} read {} times without being applied (poison)",
                self.msg.msg_id, self.msg.read_ct
            )));
        }
        self.parsed.as_ref().err().map(|why| {
            Applied::Archived(format!(
                "malformed result message {}: {why}",
                self.msg.msg_id
            ))
        })
    }
}

/// What a batch did: per message, what happened; which messages to delete or archive; the
/// events to publish once it commits.
#[derive(Default)]
struct Outcome {
    done: Vec<Applied>,
    deleted: Vec<i64>,
    archived: Vec<i64>,
    events: Vec<serde_json::Value>,
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.done.extend(other.done);
        self.deleted.extend(other.deleted);
        self.archived.extend(other.archived);
        self.events.extend(other.events);
    }

    fn record(&mut self, msg_id: i64, applied: Applied) {
        if let Applied::Archived(why) = &applied {
            warn!("{why}; archived in pgmq.a_{RESULTS_QUEUE}");
            self.archived.push(msg_id);
        } else {
            self.deleted.push(msg_id);
        }
        self.done.push(applied);
    }
}

/// Reads up to `batch` result messages and applies them all in ONE transaction (one commit
/// for the batch). Returns what happened to each message applied.
#[instrument(skip_all)]
pub async fn process_batch(
    pool: &PgPool,
    batch: i32,
    vt: i32,
    rules: ResultRules,
) -> Result<Vec<Applied>> {
    let mut tx = pool.begin_with(BEGIN).await?;
    let work = read(&mut tx, vt, batch).await?;
    if work.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    match batched::apply_all(&mut tx, &work, rules).await {
        Ok(outcome) => finish(tx, outcome).await,
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            warn!(error = %e, results = work.len(),
                  "batch of results refused; applying them one at a time");
            tx.rollback().await?;
            let mut tx = pool.begin_with(BEGIN).await?;
            let work = read(&mut tx, vt, batch).await?;
            let outcome = apply_each(&mut tx, &work, rules).await?;
            finish(tx, outcome).await
        }
    }
}

/// The fallback: each result through the batch path alone, in its own savepoint. One the
/// database refuses is rolled back alone and stays in the queue.
async fn apply_each(tx: &mut PgConnection, work: &[Work], rules: ResultRules) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for item in work {
        let mut savepoint = tx.begin().await?;
        match batched::apply_all(&mut savepoint, std::slice::from_ref(item), rules).await {
            Ok(one) => {
                savepoint.commit().await?;
                outcome.absorb(one);
            }
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                savepoint.rollback().await?;
                error!(msg_id = item.msg.msg_id, error = %e,
                       "result not applied; it will be tried again after its visibility timeout");
            }
        }
    }
    Ok(outcome)
}

/// A batch's transaction. Losing its commit in a crash loses all of it together (the
/// results' deletion too), so the results are applied again after recovery: it need not wait
/// for its WAL flush, unless it finishes a task (`finish` decides; docs/architecture.md lists
/// every path's commit mode).
/// Its statements all look their rows up by key (key_lookup_plans!, src/store/pool.rs).
const BEGIN: &str = concat!(
    "BEGIN; SET LOCAL synchronous_commit = off; ",
    crate::key_lookup_plans!()
);

/// Deletes the applied messages, archives the unusable ones, commits, publishes the events.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    outcome: Outcome,
) -> Result<Vec<Applied>> {
    if !outcome.archived.is_empty() {
        sqlx::query("SELECT pgmq.archive($1, $2::bigint[])")
            .bind(RESULTS_QUEUE)
            .bind(&outcome.archived)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("SELECT tasker.delete_results($1)")
        .bind(&outcome.deleted)
        .execute(&mut *tx)
        .await?;
    // A batch that finishes a task waits for its WAL flush: a waiter told "complete" must
    // never see it undone.
    if outcome.events.iter().any(events::finishes_task) {
        sqlx::query("SET LOCAL synchronous_commit = on")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    outcome.events.into_iter().for_each(events::emit);
    Ok(outcome.done)
}

/// Up to `qty` result messages (sql/read_results.sql), parsed, in message order.
async fn read(conn: &mut PgConnection, vt: i32, qty: i32) -> Result<Vec<Work>> {
    let messages = sqlx::query_as::<_, QueueMessage>(
        "SELECT msg_id, read_ct, body FROM tasker.read_results($1, $2)",
    )
    .bind(f64::from(vt))
    .bind(qty)
    .fetch_all(conn)
    .await?;
    let mut work: Vec<Work> = messages
        .into_iter()
        .map(|msg| {
            let parsed = StepResult::parse(&msg.body);
            Work { msg, parsed }
        })
        .collect();
    work.sort_by_key(|w| w.msg.msg_id);
    Ok(work)
}

/// Locks the tasks of these steps, in task order (every writer of a task's steps takes its
/// task's lock first, and batches take theirs in one order), then the steps; returns the
/// steps found. One statement: the tasks' lock is an InitPlan, run to the end before the
/// first step row is read. The main query locks each task row again (already ours: no wait)
/// so that it returns the task's latest state, not the one of the statement's snapshot (a
/// cancel that committed while the InitPlan waited for its lock).
async fn lock_steps(conn: &mut PgConnection, steps: &[Uuid]) -> Result<HashMap<Uuid, StepRow>> {
    let rows: Vec<StepRow> = sqlx::query_as(
        "WITH tasks AS MATERIALIZED (
           SELECT task_uuid FROM tasker.tasks
            WHERE task_uuid IN (SELECT task_uuid FROM tasker.workflow_steps
                                 WHERE step_uuid = ANY($1))
            ORDER BY task_uuid FOR UPDATE)
         SELECT s.step_uuid, s.task_uuid, t.namespace, t.name AS task_name, s.name AS step_name,
                s.state, s.attempts, s.max_attempts, s.retryable, s.backoff_base_seconds,
                s.max_backoff_seconds, t.state AS task_state, s.step_type,
                CASE WHEN s.step_type = 'decision' THEN ARRAY(
                    SELECT c.name FROM tasker.workflow_step_edges e
                      JOIN tasker.workflow_steps c ON c.step_uuid = e.to_step
                     WHERE e.from_step = s.step_uuid ORDER BY c.position)
                ELSE '{}'::text[] END AS children
           FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
          WHERE s.step_uuid = ANY($1) AND (SELECT count(*) FROM tasks) >= 0
          ORDER BY s.task_uuid, s.step_uuid FOR UPDATE OF s, t",
    )
    .bind(steps)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.step_uuid, r)).collect())
}
