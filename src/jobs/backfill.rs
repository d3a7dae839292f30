//! The backfill worker: every few seconds it brings the backfill rows in line with the `org`
//! peers in force and runs the pending ones that are due (`domain::federation::backfill`),
//! one peer after another. A failed backfill keeps its progress and is tried again with
//! exponential backoff, up to `MAX_ATTEMPTS`; a stop interrupts it between pages, and the next
//! start resumes it from the page it had reached.

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::federation::backfill;
use crate::domain::Node;

/// How often the policy is compared with the rows and due backfills are looked for.
const POLL: Duration = Duration::from_secs(3);
const MAX_ATTEMPTS: i64 = 10;
const RETRY_BASE_MS: i64 = 5_000;
const RETRY_MAX_MS: i64 = 3_600_000;

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    let limit = i64::from(node.config.federation.backfill_statuses);
    if limit == 0 {
        tracing::info!("backfill of org peers is off (federation.backfill_statuses = 0)");
        return;
    }
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let due = match backfill::due(&node).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the backfills");
                continue;
            }
        };
        for row in due {
            let (peer, attempts) = (row.domain.clone(), row.attempts);
            tracing::info!(peer = %peer, fetched = row.fetched, "backfill of an org peer started");
            let outcome = tokio::select! {
                // Progress is saved page by page: what was taken in stays, the rest resumes.
                _ = stop.wait_for(|s| *s) => return,
                outcome = backfill::run(&node, row, limit) => outcome,
            };
            if let Err(e) = outcome {
                let attempts = attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    let wait = RETRY_BASE_MS
                        .saturating_mul(1 << (attempts - 1).min(20))
                        .min(RETRY_MAX_MS);
                    crate::store::now_millis() + wait
                });
                match retry_at {
                    Some(_) => {
                        tracing::warn!(peer = %peer, attempts, error = %e, "backfill failed; will retry")
                    }
                    None => {
                        tracing::error!(peer = %peer, attempts, error = %e, "backfill given up")
                    }
                }
                if let Err(e) = node
                    .store
                    .backfill_failed(&peer, attempts, retry_at, &e.to_string())
                    .await
                {
                    tracing::warn!(peer = %peer, error = %e, "cannot record a failed backfill");
                }
            }
        }
    }
}
