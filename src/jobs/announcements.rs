//! The announcements worker: every second it sends the counts this node owes the origins of
//! peers' announcements (coalesced: at most one report per announcement every few seconds)
//! and tells staff's streams of announcements whose start has come. A report that cannot be
//! sent is kept and tried again; a stop leaves what is owed for the next start.

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::announcements;
use crate::domain::Node;

const POLL: Duration = Duration::from_secs(1);

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let reports = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            r = announcements::send_reports(&node) => r,
        };
        match reports {
            Ok(0) => {}
            Ok(n) => tracing::debug!(reports = n, "announcement counts sent"),
            Err(e) => tracing::warn!(error = %e, "cannot send announcement counts"),
        }
        if let Err(e) = announcements::stream_started(&node).await {
            tracing::warn!(error = %e, "cannot tell streams of started announcements");
        }
    }
}
