//! Task templates: the YAML (or Hash) a user writes, parsed and validated before
//! anything reaches the database.

mod lineage;
mod model;
mod validate;

pub use lineage::{lineage, Lineage};
pub use model::{RetryPolicy, StepTemplate, Template};
pub use validate::parse_and_validate;

#[cfg(test)]
mod fuzz;
