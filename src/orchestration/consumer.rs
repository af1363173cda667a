//! A queue consumer loop: drain the queue batch by batch, and when a batch comes back empty
//! wait for the queue's insert notification (polling only as a fallback). Connection
//! failures are survived with capped exponential backoff, and counted.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::orchestrator::Stats;
use crate::error::Result;
use crate::messaging::queue::insert_channel;
use crate::runtime::Client;
use crate::store::pool;

pub struct Consumer {
    pub queue: &'static str,
}

impl Consumer {
    /// `drain` handles one batch and returns whether more may be waiting (a full batch).
    pub async fn run<F, Fut>(
        &self,
        client: Arc<Client>,
        stats: Arc<Stats>,
        mut shutdown: watch::Receiver<bool>,
        drain: F,
    ) where
        F: Fn(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let mut delay = Duration::from_millis(100);
        while !*shutdown.borrow() {
            match self.session(&client, &stats, &mut shutdown, &drain).await {
                Ok(()) => break,
                Err(e) => {
                    stats.record_disconnect(&e.to_string());
                    warn!(queue = self.queue, error = %e, retry_in_ms = delay.as_millis() as u64,
                          "consumer lost the database; reconnecting");
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        info!(queue = self.queue, "consumer stopped");
    }

    async fn session<F, Fut>(
        &self,
        client: &Arc<Client>,
        stats: &Arc<Stats>,
        shutdown: &mut watch::Receiver<bool>,
        drain: &F,
    ) -> Result<()>
    where
        F: Fn(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let mut listener = pool::listener(&client.pool).await?;
        listener.listen(&insert_channel(self.queue)).await?;
        stats.connected.store(true, Ordering::Relaxed);
        let poll = Duration::from_secs_f64(client.config.poll_interval);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // After a short batch, wait: a notification that came in meanwhile is buffered
            // and ends the wait at once, so no read is spent on an empty queue.
            match drain(client.clone()).await {
                Ok(more) => {
                    stats.connected.store(true, Ordering::Relaxed);
                    if more {
                        continue;
                    }
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    error!(queue = self.queue, error = %e,
                           "batch failed; its messages come back after their visibility timeout");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                note = listener.try_recv() => {
                    let connected = note?.is_some() && take_pending(&mut listener).await?;
                    if !connected {
                        self.lost_notifications(stats);
                    }
                }
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// The listening connection was lost (and is being re-made); whatever was sent meanwhile
    /// is picked up by the next read.
    fn lost_notifications(&self, stats: &Stats) {
        stats.record_disconnect("notification connection lost");
        warn!(
            queue = self.queue,
            "notification connection lost; reconnecting"
        );
    }
}

/// Takes every notification that has already arrived, without waiting: one read then serves
/// them all. (Under load most of them are for messages the previous batch already took; one
/// read each would find the queue empty.) Returns false if the connection was lost.
async fn take_pending(listener: &mut PgListener) -> Result<bool> {
    loop {
        match poll_once(listener.try_recv()).await {
            Some(note) => {
                if note?.is_none() {
                    return Ok(false);
                }
            }
            None => return Ok(true),
        }
    }
}

/// Polls a future once: its output if it is ready now, else None (and the future is dropped).
/// A zero tokio timeout would not do: the timer rounds up to its next millisecond tick.
async fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}
