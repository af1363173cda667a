//! The one place that knows the schema: every query of the core lives under here.

pub mod controls;
pub mod migrate;
pub mod pauses;
pub mod pool;
pub mod recovery;
pub mod requests;
pub mod results;
pub mod retention;
pub mod schedules;
pub mod settle;
pub mod status;
mod step_columns;
pub mod steps;
mod task_rows;
pub mod tasks;
pub mod templates;
