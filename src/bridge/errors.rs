//! Core errors become instances of the Ruby classes defined once in
//! lib/tasker_core/errors.rb, looked up by name.

use magnus::{prelude::*, Error as RbError, ExceptionClass, RModule, Ruby};

use crate::error::Error;

fn class_name(e: &Error) -> &'static str {
    match e {
        Error::Template(_) => "TemplateError",
        Error::NotFound(_) => "NotFoundError",
        Error::InvalidArgument(_) | Error::Json(_) => "ArgumentError",
        Error::Config(_) => "ConfigurationError",
        Error::Timeout(_) => "TimeoutError",
        Error::Orchestrator(_) => "OrchestratorError",
        Error::Database(_) | Error::Unavailable(_) | Error::Migrate(_) | Error::Pgmq(_) => {
            "DatabaseError"
        }
    }
}

fn lookup(ruby: &Ruby, name: &str) -> Option<ExceptionClass> {
    let module: RModule = ruby.class_object().const_get("TaskerCore").ok()?;
    module.const_get(name).ok()
}

pub fn to_ruby(ruby: &Ruby, e: Error) -> RbError {
    let class = lookup(ruby, class_name(&e))
        .or_else(|| lookup(ruby, "Error"))
        .unwrap_or_else(|| ruby.exception_runtime_error());
    RbError::new(class, e.to_string())
}
