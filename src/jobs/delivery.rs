//! The delivery worker: sends queued activities to peers, retries with exponential backoff,
//! opens a per-peer circuit breaker so a dead node does not hold up the others, and gives up
//! (dead-letter) after the configured number of attempts. The queue lives in the database, so
//! a restart resumes where it stopped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::domain::Node;
use crate::store::deliveries::DeliveryRow;
use crate::store::now_millis;

/// A claimed delivery is leased this long; if the process dies mid-send it becomes due again.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Consecutive failures that open a peer's breaker (for twice the first retry delay).
const BREAKER_THRESHOLD: u32 = 3;
/// Longest wait between two retries.
const MAX_BACKOFF_MS: i64 = 4 * 3600 * 1000;

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// Delay before attempt `attempts + 1`: base, 2x base, 4x base, ... capped.
pub fn backoff_ms(base_seconds: u64, attempts: i64) -> i64 {
    let base = (base_seconds as i64).max(1) * 1000;
    let factor = 1i64 << attempts.clamp(0, 30);
    base.saturating_mul(factor).min(MAX_BACKOFF_MS)
}

/// Runs until `shutdown` resolves; in-flight sends are finished before it returns.
pub async fn run(node: Node, shutdown: impl std::future::Future<Output = ()>) {
    let cfg = node.config.federation.clone();
    let permits = Arc::new(Semaphore::new(cfg.concurrency));
    let breakers: Arc<std::sync::Mutex<HashMap<String, Breaker>>> = Default::default();
    // Sends in flight per peer: a peer at its limit is left out of the next scan.
    let per_peer: Arc<std::sync::Mutex<HashMap<String, usize>>> = Default::default();
    let per_peer_limit = cfg.per_peer_concurrency.max(1);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut last_reload = Instant::now();
    tokio::pin!(shutdown);
    loop {
        // Policy changes made by other processes (the CLI, other nodes on the same database).
        if last_reload.elapsed() > Duration::from_secs(2) {
            last_reload = Instant::now();
            if let Err(e) = crate::domain::policy::reload(&node).await {
                tracing::error!(error = %e, "cannot reload the federation policy");
            }
        }
        // Reap finished sends.
        while in_flight.try_join_next().is_some() {}
        let busy: Vec<String> = per_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, n)| **n >= per_peer_limit)
            .map(|(peer, _)| peer.clone())
            .collect();
        let due = match node.store.due_deliveries(now_millis(), 64, &busy).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the delivery queue");
                Vec::new()
            }
        };
        for d in due {
            if !node.fed.net.allows(&d.peer) {
                tracing::warn!(peer = %d.peer, "dropping a queued delivery to a peer no longer allowed");
                let _ = node.store.delivery_done(d.id).await;
                continue;
            }
            let open = {
                let b = breakers.lock().unwrap_or_else(|p| p.into_inner());
                b.get(&d.peer)
                    .and_then(|b| b.open_until)
                    .filter(|t| *t > Instant::now())
            };
            if let Some(until) = open {
                // Not an attempt: just wait for the breaker.
                let wait = until.saturating_duration_since(Instant::now()).as_millis() as i64;
                let _ = node
                    .store
                    .reschedule_delivery(d.id, d.attempts, now_millis() + wait + 50, None)
                    .await;
                continue;
            }
            {
                let mut counts = per_peer.lock().unwrap_or_else(|p| p.into_inner());
                let n = counts.entry(d.peer.clone()).or_default();
                if *n >= per_peer_limit {
                    // Stays due; the next scan after a slot frees up takes it.
                    continue;
                }
                *n += 1;
            }
            // Lease it so the next scan does not pick it up again while it is in flight.
            if let Err(e) = node
                .store
                .reschedule_delivery(d.id, d.attempts, now_millis() + LEASE_MS, None)
                .await
            {
                tracing::error!(error = %e, "cannot lease a delivery");
                release(&per_peer, &d.peer);
                continue;
            }
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let (node, breakers, per_peer) = (node.clone(), breakers.clone(), per_peer.clone());
            in_flight.spawn(async move {
                let peer = d.peer.clone();
                deliver(&node, d, &breakers).await;
                drop(permit);
                release(&per_peer, &peer);
                // A freed slot may let a waiting delivery to this peer go now.
                node.fed.wake.notify_one();
            });
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = node.fed.wake.notified() => {},
            _ = tokio::time::sleep(Duration::from_millis(500)) => {},
        }
    }
    let pending = in_flight.len();
    if pending > 0 {
        tracing::info!(pending, "finishing in-flight deliveries before stopping");
    }
    let finish = async { while in_flight.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(15), finish)
        .await
        .is_err()
    {
        tracing::warn!(
            "stopped with deliveries in flight; they stay queued and resume on the next start"
        );
    }
}

fn release(per_peer: &std::sync::Mutex<HashMap<String, usize>>, peer: &str) {
    let mut counts = per_peer.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(n) = counts.get_mut(peer) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(peer);
        }
    }
}

async fn deliver(
    node: &Node,
    d: DeliveryRow,
    breakers: &std::sync::Mutex<HashMap<String, Breaker>>,
) {
    let cfg = &node.config.federation;
    let attempts = d.attempts + 1;
    let (inbox, body) = (&d.inbox, d.activity.as_bytes());
    let post = |signer| async move {
        node.fed
            .net
            .post(inbox, body, signer)
            .await
            .map_err(|e| (e.is_permanent(), e.to_string()))
    };
    let result = match d.signer_id {
        // The node's own actor (a forwarded report).
        None => post(&node.fed.node_signer).await,
        Some(id) => match node.store.account_by_id(id).await {
            Ok(Some(signer)) => {
                match crate::domain::federation::outbound::signer_for(node, &signer) {
                    Ok(s) => post(&s).await,
                    Err(e) => Err((true, e.to_string())),
                }
            }
            Ok(None) => Err((true, "the signing account is gone".to_string())),
            Err(e) => Err((false, e.to_string())),
        },
    };
    match result {
        Ok(()) => {
            tracing::debug!(peer = %d.peer, inbox = %d.inbox, attempts, "delivered");
            node.fed.health.delivered(&d.peer, now_millis());
            breakers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&d.peer);
            if let Err(e) = node.store.delivery_done(d.id).await {
                tracing::error!(error = %e, "delivered, but cannot remove it from the queue");
            }
        }
        Err((permanent, error)) => {
            {
                let mut b = breakers.lock().unwrap_or_else(|p| p.into_inner());
                let entry = b.entry(d.peer.clone()).or_default();
                entry.failures += 1;
                let mut open_until = None;
                if entry.failures >= BREAKER_THRESHOLD {
                    let open = Duration::from_secs(cfg.retry_base_seconds.max(1) * 2);
                    entry.open_until = Some(Instant::now() + open);
                    open_until = Some(now_millis() + open.as_millis() as i64);
                }
                node.fed.health.failed(&d.peer, entry.failures, open_until);
            }
            if permanent || attempts >= cfg.max_attempts as i64 {
                tracing::warn!(peer = %d.peer, inbox = %d.inbox, attempts, error = %error, "delivery given up (dead letter)");
                let _ = node.store.delivery_dead(d.id, attempts, &error).await;
            } else {
                let next = now_millis() + backoff_ms(cfg.retry_base_seconds, d.attempts);
                tracing::info!(peer = %d.peer, attempts, error = %error, "delivery failed; will retry");
                let _ = node
                    .store
                    .reschedule_delivery(d.id, attempts, next, Some(&error))
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(30, 0), 30_000);
        assert_eq!(backoff_ms(30, 1), 60_000);
        assert_eq!(backoff_ms(30, 3), 240_000);
        assert_eq!(backoff_ms(30, 40), MAX_BACKOFF_MS);
        // The default 14 attempts span roughly a day.
        let total: i64 = (0..13).map(|a| backoff_ms(30, a)).sum();
        assert!(
            (20 * 3600 * 1000..36 * 3600 * 1000).contains(&total),
            "{total}"
        );
    }
}
