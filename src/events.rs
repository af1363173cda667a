//! Events for the Ruby side: log lines and lifecycle events (task completed or failed, step
//! retried) are queued here and drained by a Ruby thread (TaskerCore::EventPump), which
//! hands logs to Ruby's Logger and events to TaskerCore::Notifications. Until a Ruby pump
//! is attached nothing is queued: logs go to stderr and events are dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;

/// Beyond this many undrained events the oldest are dropped (and counted).
const CAPACITY: usize = 10_000;

struct Queue {
    items: Mutex<VecDeque<String>>,
    ready: Notify,
    attached: AtomicBool,
    dropped: AtomicU64,
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| Queue {
        items: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        attached: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
    })
}

/// True while a Ruby pump drains the queue.
pub fn attached() -> bool {
    queue().attached.load(Ordering::Relaxed)
}

pub fn attach(on: bool) {
    let q = queue();
    q.attached.store(on, Ordering::Relaxed);
    if !on {
        if let Ok(mut items) = q.items.lock() {
            items.clear();
        }
        q.ready.notify_waiters();
    }
}

/// Queues one event (a JSON object with a "kind"), if a pump is attached.
pub fn emit(event: Value) {
    let q = queue();
    if !q.attached.load(Ordering::Relaxed) {
        return;
    }
    if let Ok(mut items) = q.items.lock() {
        if items.len() >= CAPACITY {
            items.pop_front();
            q.dropped.fetch_add(1, Ordering::Relaxed);
        }
        items.push_back(event.to_string());
    }
    q.ready.notify_one();
}

/// The event for a task that reached a final state (complete, error, cancelled,
/// resolved_manually).
pub fn task_finished_event(
    task_uuid: uuid::Uuid,
    namespace: &str,
    name: &str,
    state: &str,
) -> Value {
    let kind = match state {
        "complete" => "task.completed",
        "error" => "task.failed",
        "cancelled" => "task.cancelled",
        _ => "task.resolved",
    };
    json!({"kind": kind, "task_uuid": task_uuid, "namespace": namespace, "name": name,
           "state": state})
}

/// True for the event of a task reaching a final state.
pub fn finishes_task(event: &Value) -> bool {
    event
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.starts_with("task."))
}

/// Waits up to `timeout` for events and returns them all (JSON texts), oldest first.
pub async fn next_batch(timeout: Duration) -> Vec<String> {
    let q = queue();
    let take = || -> Vec<String> {
        q.items
            .lock()
            .map(|mut items| items.drain(..).collect())
            .unwrap_or_default()
    };
    let batch = take();
    if !batch.is_empty() || !attached() {
        return batch;
    }
    let _ = tokio::time::timeout(timeout, q.ready.notified()).await;
    take()
}

pub fn dropped() -> u64 {
    queue().dropped.load(Ordering::Relaxed)
}
