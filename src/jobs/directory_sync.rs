//! The directory sync: every `ldap.sync_interval_seconds` (default hourly) it checks each
//! LDAP-linked account against the directory (`domain::sso::sync_directory`), retiring those
//! gone or outside the required group. A directory that cannot be reached retires nobody; the
//! next run tries again. Stops with the node.

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::sso;
use crate::domain::Node;

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    let interval = node.config.ldap.sync_interval_seconds;
    if node.sso.ldap.is_none() || interval == 0 {
        return;
    }
    let period = Duration::from_secs(interval);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(period) => {}
        }
        let outcome = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            outcome = sso::sync_directory(&node) => outcome,
        };
        match outcome {
            Ok(r) => tracing::info!(
                checked = r.checked,
                retired = r.retired,
                updated = r.updated,
                "directory sync done"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "directory sync failed; nobody retired, will retry")
            }
        }
    }
}
