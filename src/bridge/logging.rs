//! tracing output for the whole process, its level set by the same switch as the Ruby
//! logger (TaskerCore.configuration.log_level). Lines go to the Ruby logger through the
//! event queue when a Ruby pump is attached, else to stderr. Passwords never appear: the
//! core only ever logs redacted database URLs.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{filter::EnvFilter, prelude::*, reload, Layer, Registry};

use crate::events;

type Handle = reload::Handle<EnvFilter, Registry>;

static HANDLE: OnceLock<Option<Handle>> = OnceLock::new();

fn filter(level: &str) -> EnvFilter {
    let level = match level {
        "trace" | "debug" | "info" | "warn" | "error" | "off" => level,
        _ => "warn",
    };
    EnvFilter::new(format!("{level},sqlx=warn"))
}

/// Sets (or changes) the level of the core's log output. Called on every call from Ruby:
/// the filter is rebuilt only when the level changed.
pub fn set_level(level: &str) {
    static CURRENT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    if let Ok(mut current) = CURRENT.lock() {
        if *current == level {
            return;
        }
        level.clone_into(&mut current);
    }
    let handle = HANDLE.get_or_init(|| {
        let (layer, handle) = reload::Layer::new(filter(level));
        let installed = tracing_subscriber::registry()
            .with(layer)
            .with(RubyLogLayer)
            .try_init()
            .is_ok();
        installed.then_some(handle)
    });
    if let Some(handle) = handle {
        let _ = handle.reload(filter(level));
    }
}

/// Collects an event's message and fields as "message key=value ...".
#[derive(Default)]
struct Line(String, String);

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={:?}", field.name(), value);
        }
    }
}

struct RubyLogLayer;

impl<S> Layer<S> for RubyLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        let spans: Vec<&str> = ctx
            .event_scope(event)
            .map(|scope| scope.from_root().map(|s| s.name()).collect())
            .unwrap_or_default();
        let scope = if spans.is_empty() {
            String::new()
        } else {
            format!("{}: ", spans.join(":"))
        };
        let message = format!("{scope}{}{}", line.0, line.1);
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        if events::attached() {
            events::emit(json!({"kind": "log", "level": level,
                                "target": event.metadata().target(), "message": message}));
        } else {
            eprintln!("tasker-core {level}: {message}");
        }
    }
}
