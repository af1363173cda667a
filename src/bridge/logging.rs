//! tracing output for the whole process, its level set by the same switch as the Ruby
//! logger (TaskerCore.configuration.log_level). sqlx's own statement logs stay quiet.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::{filter::EnvFilter, fmt, prelude::*, reload, Registry};

type Handle = reload::Handle<EnvFilter, Registry>;

static HANDLE: OnceLock<Option<Handle>> = OnceLock::new();

fn filter(level: &str) -> EnvFilter {
    let level = match level {
        "trace" | "debug" | "info" | "warn" | "error" | "off" => level,
        _ => "warn",
    };
    EnvFilter::new(format!("{level},sqlx=warn"))
}

/// Sets (or changes) the level of the core's log output on stderr.
pub fn set_level(level: &str) {
    let handle = HANDLE.get_or_init(|| {
        let (layer, handle) = reload::Layer::new(filter(level));
        let installed = tracing_subscriber::registry()
            .with(layer)
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false),
            )
            .try_init()
            .is_ok();
        installed.then_some(handle)
    });
    if let Some(handle) = handle {
        let _ = handle.reload(filter(level));
    }
}
