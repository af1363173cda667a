//! Ruby <-> Rust. Ruby hands over plain hashes and strings and gets plain hashes and
//! strings back; no Ruby object ever reaches a tokio task. Everything lives under
//! TaskerCore::Internal, which the Ruby facade (lib/tasker_core/*.rb) wraps.

mod client;
pub mod errors;
mod events;
mod logging;
pub mod nogvl;
mod orchestrator;
mod schedules;
mod settings;

use magnus::{prelude::*, Error as RbError, RHash, RModule, Ruby};

use crate::config::Config;

pub fn init(ruby: &Ruby) -> Result<(), RbError> {
    let tasker = ruby.define_module("TaskerCore")?;
    let internal = tasker.define_module("Internal")?;
    settings::define(ruby, &tasker, &internal)?;
    client::define(ruby, &internal)?;
    orchestrator::define(ruby, &internal)?;
    events::define(ruby, &internal)?;
    schedules::define(ruby, &internal)?;
    Ok(())
}

/// TaskerCore::Configuration#to_native, validated; also applies its log level.
fn config(ruby: &Ruby, hash: RHash) -> Result<Config, RbError> {
    let config = settings::from_hash(ruby, hash)?;
    logging::set_level(&config.log_level);
    Ok(config)
}

fn define_module(parent: &RModule, name: &str) -> Result<RModule, RbError> {
    parent.define_module(name)
}
