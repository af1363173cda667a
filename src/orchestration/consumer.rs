//! A queue consumer loop: read a batch, handle each message concurrently, and when the
//! queue is empty wait for the insert notification (polling only as a fallback).
//! Connection failures are survived with capped exponential backoff.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use super::orchestrator::Stats;
use crate::error::Result;
use crate::messaging::queue::{self, insert_channel, QueueMessage};
use crate::runtime::Client;

/// A message read this many times without being handled is archived as poison.
pub const MAX_READS: i32 = 5;

pub struct Consumer {
    pub queue: &'static str,
    pub batch: i32,
    pub visibility_timeout: i32,
}

impl Consumer {
    pub async fn run<F, Fut>(
        &self,
        client: Arc<Client>,
        stats: Arc<Stats>,
        mut shutdown: watch::Receiver<bool>,
        handle: F,
    ) where
        F: Fn(Arc<Client>, QueueMessage) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let mut delay = Duration::from_millis(100);
        while !*shutdown.borrow() {
            match self.session(&client, &stats, &mut shutdown, &handle).await {
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
        handle: &F,
    ) -> Result<()>
    where
        F: Fn(Arc<Client>, QueueMessage) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let mut listener = PgListener::connect_with(&client.pool).await?;
        listener.listen(&insert_channel(self.queue)).await?;
        stats.connected.store(true, Ordering::Relaxed);
        let poll = Duration::from_secs_f64(client.config.poll_interval);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let messages = queue::read(
                &client.pool,
                self.queue,
                self.visibility_timeout,
                self.batch,
            )
            .await?;
            stats.connected.store(true, Ordering::Relaxed);
            if messages.is_empty() {
                tokio::select! {
                    _ = shutdown.changed() => return Ok(()),
                    note = listener.try_recv() => {
                        // None: the listening connection was lost (and is being re-made);
                        // whatever was sent meanwhile is picked up by the next read.
                        if note?.is_none() {
                            stats.record_disconnect("notification connection lost");
                            warn!(queue = self.queue, "notification connection lost; reconnecting");
                        }
                    }
                    _ = tokio::time::sleep(poll) => {}
                }
                continue;
            }
            let mut set = JoinSet::new();
            for msg in messages {
                if msg.read_ct > MAX_READS {
                    self.archive_poison(client, &msg).await?;
                    continue;
                }
                set.spawn(handle.clone()(client.clone(), msg));
            }
            let mut failure = None;
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) if e.is_transient() => failure = Some(e),
                    Ok(Err(e)) => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        error!(queue = self.queue, error = %e, "message handling failed; it will be retried after its visibility timeout");
                    }
                    Err(join) => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        error!(queue = self.queue, error = %join, "message handler panicked");
                    }
                }
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
    }

    async fn archive_poison(&self, client: &Client, msg: &QueueMessage) -> Result<()> {
        let mut conn = client.pool.acquire().await?;
        queue::archive(&mut conn, self.queue, msg.msg_id).await?;
        error!(
            queue = self.queue,
            msg_id = msg.msg_id,
            read_ct = msg.read_ct,
            "message read {} times without being handled: archived as poison",
            msg.read_ct
        );
        Ok(())
    }
}
