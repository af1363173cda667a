//! TaskerCore::Internal::Schedules: register, list and remove recurring schedules (JSON in,
//! JSON out).

use magnus::{function, Error as RbError, RHash, RModule, Ruby};

use super::client::with_client;
use super::define_module;
use super::errors::to_ruby;
use crate::error::Error;
use crate::store::schedules::{self, ScheduleRequest};

pub fn define(_ruby: &Ruby, internal: &RModule) -> Result<(), RbError> {
    let m = define_module(internal, "Schedules")?;
    m.define_module_function("register", function!(register, 2))?;
    m.define_module_function("list", function!(list, 1))?;
    m.define_module_function("remove", function!(remove, 2))?;
    Ok(())
}

/// `json`: a ScheduleRequest; returns the stored schedule as JSON.
fn register(ruby: &Ruby, settings: RHash, json: String) -> Result<String, RbError> {
    let req: ScheduleRequest = serde_json::from_str(&json)
        .map_err(|e| to_ruby(ruby, Error::InvalidArgument(format!("schedule: {e}"))))?;
    with_client(ruby, settings, |c| async move {
        let row = schedules::register(&c.pool, &req).await?;
        Ok(serde_json::to_string(&row)?)
    })
}

fn list(ruby: &Ruby, settings: RHash) -> Result<String, RbError> {
    with_client(ruby, settings, |c| async move {
        Ok(serde_json::to_string(&schedules::list(&c.pool).await?)?)
    })
}

fn remove(ruby: &Ruby, settings: RHash, name: String) -> Result<bool, RbError> {
    with_client(ruby, settings, |c| async move {
        schedules::remove(&c.pool, &name).await
    })
}
