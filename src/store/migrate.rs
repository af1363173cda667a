//! `TaskerCore.migrate!`: pgmq's SQL, the migrations (tables and indexes), then every SQL
//! function of `sql/` (a repeatable migration: each file is the function's current
//! definition), all under one advisory lock held on a connection of its own, outside the
//! pool, so that migrate! works with a pool of one connection.

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, PgPool};
use tracing::{info, instrument};

use crate::error::{Error, Result};
use crate::messaging::queue::queue_name_pattern;
use crate::messaging::{RESULTS_QUEUE, TASK_REQUESTS_QUEUE};
use crate::state::{StepState, TaskState};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));
}
pub use embedded::SQL_FILES;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Arbitrary constant: serializes migrate! across processes.
const MIGRATE_LOCK: i64 = 0x7461_736b_6572;

/// The squashed baseline, and the first and last migrations it replaced: a database that
/// recorded exactly those sixteen was migrated by the code before the squash, and its tables
/// are the baseline's.
const BASELINE: i64 = 20261129000001;
const SQUASHED_FIRST: i64 = 20261126000001;
const SQUASHED_LAST: i64 = 20261128000005;
const SQUASHED_COUNT: i64 = 16;

/// Installs pgmq's SQL (embedded in the pgmq crate), runs the migrations and applies sql/.
/// Idempotent; concurrent callers wait for each other.
#[instrument(skip(pool))]
pub async fn migrate(pool: &PgPool) -> Result<()> {
    let mut lock = super::pool::dedicated(pool).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut lock)
        .await?;
    let outcome = run(pool, &mut lock).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut lock)
        .await;
    let closed = lock.close().await;
    outcome?;
    unlocked?;
    closed?;
    Ok(())
}

async fn run(pool: &PgPool, conn: &mut PgConnection) -> Result<()> {
    // pgmq's installer takes a pool (one connection of it, released before we go on).
    pgmq::install::install_sql_from_embedded(pool).await?;
    adopt_squashed_history(conn).await?;
    MIGRATOR.run_direct(conn).await?;
    apply_sql_files(conn).await?;
    analyze_unmeasured_tables(conn).await?;
    info!("schema, functions and pgmq are up to date");
    Ok(())
}

/// A database migrated before the squash holds the baseline's tables under sixteen other
/// migration records: they are replaced by the baseline's record, so sqlx sees it applied.
async fn adopt_squashed_history(conn: &mut PgConnection) -> Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(());
    }
    let (old, has_first, has_last, has_baseline): (i64, bool, bool, bool) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE version < $1),
                bool_or(version = $2) IS TRUE, bool_or(version = $3) IS TRUE,
                bool_or(version = $1) IS TRUE
           FROM _sqlx_migrations",
    )
    .bind(BASELINE)
    .bind(SQUASHED_FIRST)
    .bind(SQUASHED_LAST)
    .fetch_one(&mut *conn)
    .await?;
    if old == 0 || has_baseline {
        return Ok(());
    }
    if !(has_first && has_last && old == SQUASHED_COUNT) {
        return Err(Error::Orchestrator(format!(
            "this database holds {old} tasker-core migrations from before the baseline \
             {BASELINE}, not the {SQUASHED_COUNT} it replaced: migrate it with the version \
             that wrote them first, or drop the tasker schema and migrate again"
        )));
    }
    let baseline = MIGRATOR
        .iter()
        .find(|m| m.version == BASELINE)
        .ok_or_else(|| Error::Orchestrator(format!("baseline migration {BASELINE} missing")))?;
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version < $1")
        .bind(BASELINE)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, $2, true, $3, 0)",
    )
    .bind(baseline.version)
    .bind(baseline.description.as_ref())
    .bind(baseline.checksum.as_ref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    info!("recorded the squashed migrations as the baseline {BASELINE}");
    Ok(())
}

/// Every function of the tasker schema, dropped and created again from sql/ in one
/// transaction: the schema's functions are exactly the files (a function deleted from sql/
/// is gone, a changed signature replaces the old one). The trigger function stays (queues'
/// triggers depend on it) and is replaced in place. The step moves the writer checks come
/// from the state machine, the orchestrator's own queues exist, and every queue gets its
/// statements again.
async fn apply_sql_files(conn: &mut PgConnection) -> Result<()> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "DO $$
         DECLARE f regprocedure;
         BEGIN
             FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE n.nspname = 'tasker' AND p.proname <> 'notify_queue_insert' LOOP
                 EXECUTE 'DROP FUNCTION ' || f;
             END LOOP;
         END $$",
    )
    .execute(&mut *tx)
    .await?;
    for (name, text) in SQL_FILES {
        let sql = expand(text).map_err(|why| Error::Orchestrator(format!("sql/{name}: {why}")))?;
        sqlx::query(&sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::Orchestrator(format!("sql/{name} failed: {e}")))?;
    }
    let (from, to): (Vec<&str>, Vec<&str>) = step_moves().into_iter().unzip();
    sqlx::query("DELETE FROM tasker.step_state_moves")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO tasker.step_state_moves SELECT * FROM unnest($1::text[], $2::text[])")
        .bind(&from)
        .bind(&to)
        .execute(&mut *tx)
        .await?;
    for queue in [RESULTS_QUEUE, TASK_REQUESTS_QUEUE] {
        sqlx::query("SELECT tasker.ensure_queue($1)")
            .bind(queue)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "SELECT tasker.install_queue_functions(substr(c.relname, 3))
           FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'pgmq' AND g.tgname = 'tasker_notify_insert'",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Tables that hold rows but have no statistics yet (an upgrade, a bulk load) are analyzed,
/// so that plans are made from their real size. Empty tables that were never analyzed are
/// left alone: PostgreSQL then assumes a few pages and plans index lookups, which is what the
/// hot path wants while a new installation fills up; analyzing them would record "empty" and
/// make sequential scans look cheapest until autovacuum measures them again.
async fn analyze_unmeasured_tables(conn: &mut PgConnection) -> Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
          WHERE schemaname = 'tasker' AND last_analyze IS NULL AND last_autoanalyze IS NULL
            AND n_live_tup > 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    for table in tables {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Every (from, to) the step state machine allows.
pub fn step_moves() -> Vec<(&'static str, &'static str)> {
    StepState::ALL
        .iter()
        .flat_map(|from| {
            StepState::ALL
                .iter()
                .filter(|to| from.can_transition_to(**to))
                .map(|to| (from.as_str(), to.as_str()))
        })
        .collect()
}

/// Fills in the rules sql/ shares with Rust: `{{NAME}}` placeholders, each from its one
/// definition. An unknown or unclosed placeholder is an error, never left in the SQL.
pub fn expand(text: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unclosed {{ placeholder".to_string())?;
        out.push_str(&placeholder(&after[..end])?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder(name: &str) -> std::result::Result<String, String> {
    let quoted = |states: Vec<&str>| {
        states
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let steps = |pred: fn(StepState) -> bool| {
        StepState::ALL
            .into_iter()
            .filter(|s| pred(*s))
            .map(StepState::as_str)
            .collect::<Vec<_>>()
    };
    let tasks = |pred: fn(TaskState) -> bool| {
        TaskState::ALL
            .into_iter()
            .filter(|s| pred(*s))
            .map(TaskState::as_str)
            .collect::<Vec<_>>()
    };
    Ok(match name {
        "QUEUE_NAME_PATTERN" => queue_name_pattern(),
        "TASK_REQUESTS_QUEUE" => TASK_REQUESTS_QUEUE.to_string(),
        "CLAIM_INLINE_RESULT_BYTES" => crate::messaging::CLAIM_INLINE_RESULT_BYTES.to_string(),
        "SATISFIED_STEP_STATES" => quoted(steps(StepState::is_satisfied)),
        "FINISHED_STEP_STATES" => quoted(steps(StepState::is_terminal)),
        "OPEN_TASK_STATES" => quoted(tasks(|s| !s.is_finished())),
        "FINISHED_TASK_STATES" => quoted(tasks(TaskState::is_finished)),
        other => return Err(format!("unknown placeholder {{{{{other}}}}}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_the_shared_rules() {
        let sql = expand("x IN ({{SATISFIED_STEP_STATES}}) AND t IN ({{OPEN_TASK_STATES}})")
            .expect("known placeholders");
        assert_eq!(
            sql,
            "x IN ('complete', 'resolved_manually', 'skipped') AND t IN ('pending', 'in_progress')"
        );
        assert_eq!(
            expand("{{FINISHED_TASK_STATES}}").expect("known placeholder"),
            "'complete', 'error', 'cancelled', 'resolved_manually'"
        );
    }

    #[test]
    fn refuses_unknown_and_unclosed_placeholders() {
        assert!(expand("{{NOPE}}")
            .unwrap_err()
            .contains("unknown placeholder {{NOPE}}"));
        assert!(expand("{{QUEUE_NAME_PATTERN")
            .unwrap_err()
            .contains("unclosed"));
    }

    #[test]
    fn every_sql_file_expands_and_defines_the_function_it_is_named_after() {
        assert!(!SQL_FILES.is_empty());
        for (name, text) in SQL_FILES {
            let sql = expand(text).unwrap_or_else(|e| panic!("sql/{name}: {e}"));
            let function = name.trim_end_matches(".sql");
            let defines = format!("CREATE OR REPLACE FUNCTION tasker.{function}(");
            assert!(
                sql.contains(&defines),
                "sql/{name} must define tasker.{function}"
            );
            assert_eq!(
                sql.lines()
                    .filter(|l| l.starts_with("CREATE OR REPLACE FUNCTION tasker."))
                    .count(),
                1,
                "sql/{name} must define exactly one function"
            );
        }
    }

    #[test]
    fn migration_versions_are_unique() {
        let mut versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        let count = versions.len();
        versions.dedup();
        assert_eq!(
            versions.len(),
            count,
            "two files of migrations/ share a version"
        );
    }

    #[test]
    fn step_moves_are_the_state_machine() {
        let moves = step_moves();
        assert!(moves.contains(&("pending", "enqueued")));
        assert!(moves.contains(&("in_progress", "in_progress")));
        assert!(!moves.contains(&("complete", "pending")));
        assert!(!moves.contains(&("complete", "resolved_manually")));
    }
}
