//! Recurring schedules: cron expressions in a timezone (pure; the store and the orchestrator's
//! loop use them).

mod cron;

pub use cron::CronSchedule;
