//! Task templates: the YAML (or Hash) a user writes, parsed and validated before
//! anything reaches the database. Two formats are read into one model: the native one and
//! the Tasker family's (tasker.rs).

mod concurrency;
mod context_schema;
mod lineage;
mod model;
mod tasker;
mod validate;

pub use concurrency::Concurrency;
pub use context_schema::violations as context_violations;
pub use lineage::{lineage, Lineage};
pub use model::{RetryPolicy, StepTemplate, StepType, Template, DEFAULT_OPTIONS};
pub use tasker::current_environment;
pub use validate::{parse_and_validate, parse_and_validate_in};

#[cfg(test)]
mod fuzz;
