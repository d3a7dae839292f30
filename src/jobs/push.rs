//! The Web Push worker: when a notification is written, and twice a second for retries (at
//! once while batches come full), it claims the pushes that are due (leased, so a round never
//! sends one twice), sends them at once, and records each outcome: sent, retried with backoff,
//! given up after `push.max_attempts` or on a 4xx, or the subscription dropped when the push
//! service answers 404 or 410. The queue is in the database, so what a stop leaves is sent
//! after the next start (when its lease ends).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::domain::events::Event;
use crate::domain::{push, Node};
use crate::jobs::delivery::backoff_ms;
use crate::store::now_millis;
use crate::store::push::DuePush;

const POLL: Duration = Duration::from_millis(500);
/// Pushes claimed per round, and sent at once.
const BATCH: i64 = 32;
/// A claimed push is left alone this long by other rounds while it is being sent.
const LEASE_MS: i64 = 2 * 60 * 1000;

pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    // A notification written (published after its commit, with its pushes) wakes the worker.
    let mut events = node.hub.subscribe();
    let mut full = false;
    loop {
        // A full batch means more may be waiting: go on at once; otherwise wait for a
        // notification or a little while (retries fall due on their own).
        if !full {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(POLL) => {}
                _ = notified(&mut events) => {}
            }
        } else if *stop.borrow() {
            return;
        }
        if !node.config.push.enabled {
            // Nothing is sent, so nothing is kept for later: the queue would only grow.
            full = false;
            match node.store.clear_pushes().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(dropped = n, "push.enabled is off: queued pushes dropped"),
                Err(e) => tracing::warn!(error = %e, "cannot clear the push queue"),
            }
            continue;
        }
        // A round finishes its sends before the stop is looked at again.
        match round(&node).await {
            Ok((claimed, sent)) => {
                full = claimed == BATCH as usize;
                if sent > 0 {
                    tracing::debug!(sent, "pushes sent");
                }
            }
            Err(e) => {
                full = false;
                tracing::warn!(error = %e, "cannot read the push queue");
            }
        }
    }
}

/// Resolves when a notification is published (or events were missed: one may be among them).
async fn notified(events: &mut broadcast::Receiver<Arc<Event>>) {
    loop {
        match events.recv().await {
            Ok(e) if matches!(*e, Event::Notification { .. }) => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// One round: (pushes claimed, pushes sent).
async fn round(node: &Node) -> Result<(usize, usize), crate::store::StoreError> {
    let now = now_millis();
    let due = node.store.claim_pushes(now, now + LEASE_MS, BATCH).await?;
    let claimed = due.len();
    let mut sends = JoinSet::new();
    for p in due {
        let node = node.clone();
        sends.spawn(async move { send(&node, &p).await });
    }
    let mut sent = 0;
    while let Some(done) = sends.join_next().await {
        sent += usize::from(done.unwrap_or(false));
    }
    Ok((claimed, sent))
}

/// Sends one push and records what became of it; true when it was sent.
async fn send(node: &Node, p: &DuePush) -> bool {
    let cfg = &node.config.push;
    let store = &node.store;
    let attempts = p.attempts + 1;
    let retry = |error: String| async move {
        let next = now_millis() + backoff_ms(cfg.retry_base_seconds, p.attempts);
        tracing::info!(attempts, error = %error, "push failed; will retry");
        store
            .retry_push(p.subscription_id, p.notification_id, attempts, next, &error)
            .await
    };
    let body = match push::payload_of(node, p).await {
        Ok(Some(body)) => body,
        Ok(None) => {
            log_store(store.push_done(p.subscription_id, p.notification_id).await);
            return false;
        }
        Err(e) => {
            log_store(retry(e.to_string()).await);
            return false;
        }
    };
    let (written, sent) = match node.push.send(&p.endpoint, &p.p256dh, &p.auth, &body).await {
        Ok(()) => {
            tracing::debug!(notification = p.notification_id, "push sent");
            (
                store.push_done(p.subscription_id, p.notification_id).await,
                true,
            )
        }
        Err(e) if e.subscription_gone() => {
            tracing::info!(error = %e, "the push service says the subscription is gone; dropped");
            (store.drop_push_subscription(p.subscription_id).await, false)
        }
        Err(e) if e.is_permanent() || attempts >= i64::from(cfg.max_attempts) => {
            tracing::warn!(error = %e, attempts, "push given up");
            (
                store.push_done(p.subscription_id, p.notification_id).await,
                false,
            )
        }
        Err(e) => (retry(e.to_string()).await, false),
    };
    log_store(written);
    sent
}

fn log_store(result: Result<(), crate::store::StoreError>) {
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot record a push's outcome; it is tried again when its lease ends");
    }
}
