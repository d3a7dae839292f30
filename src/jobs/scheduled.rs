//! The scheduled-statuses worker: every second it posts the scheduled statuses whose time
//! has come. What is due while the node is stopped is posted when it starts again.

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::{scheduled, Node};

const POLL: Duration = Duration::from_secs(1);

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        // A round is let finish on stop: a post is one transaction, and what is left is
        // taken up at the next start.
        match scheduled::publish_due(&node).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(posted = n, "scheduled statuses posted"),
            Err(e) => tracing::warn!(error = %e, "cannot post scheduled statuses"),
        }
    }
}
