//! The insights worker: every `insights.interval_seconds` it recomputes the weeks that may
//! still change and shares with `org` peers what changed. A document that cannot be sent is
//! tried again at the next round; a stop between rounds loses nothing (the next start
//! recomputes and sends what is owed).

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::insights;
use crate::domain::Node;

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(node.config.insights.interval_seconds);
    // The first round soon after start, so a fresh node has figures to show.
    let mut wait = Duration::from_secs(1).min(every);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = every;
        let round = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            r = insights::refresh(&node) => r,
        };
        match round {
            Ok((computed, sent)) => {
                tracing::debug!(computed, sent, "insights refreshed")
            }
            Err(e) => tracing::warn!(error = %e, "cannot refresh insights"),
        }
    }
}
