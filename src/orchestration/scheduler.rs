//! The orchestrator's schedule loop: fires due recurring schedules (store::schedules). It
//! sleeps until the earliest next fire time, and at most a second, so a schedule another
//! process registers is seen within a second.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::runtime::Client;
use crate::store::schedules::fire_due;

const LONGEST_WAIT: Duration = Duration::from_secs(1);

pub async fn run(client: Arc<Client>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match fire_due(&client.pool, &client.config).await {
            Ok(0) => {}
            Ok(n) => info!(tasks = n, "schedules fired"),
            Err(e) => warn!(error = %e, "firing schedules failed; will try again"),
        }
        let wait = match earliest(&client).await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(LONGEST_WAIT),
            Ok(None) => LONGEST_WAIT,
            Err(e) => {
                warn!(error = %e, "reading schedules failed; will try again");
                LONGEST_WAIT
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn earliest(client: &Client) -> crate::error::Result<Option<DateTime<Utc>>> {
    Ok(
        sqlx::query_scalar("SELECT min(next_fire_at) FROM tasker.schedules")
            .fetch_one(&client.pool)
            .await?,
    )
}
