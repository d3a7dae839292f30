//! The polls worker: every second it ends the polls whose time has come and tells peers the
//! counts of local polls voted on since the last round (one Update per poll, however many
//! votes came in). What ends while the node is stopped is ended when it starts again.

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::{polls, Node};

const POLL: Duration = Duration::from_secs(1);

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        // Each poll is one transaction; what a stop leaves is taken up at the next start.
        match polls::close_ended(&node).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(ended = n, "polls ended"),
            Err(e) => tracing::warn!(error = %e, "cannot end polls"),
        }
        match polls::tell_peers(&node).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(polls = n, "poll counts sent to peers"),
            Err(e) => tracing::warn!(error = %e, "cannot send poll counts"),
        }
    }
}
