//! The home-feed fan-out worker. Posting writes the status, the author's own home-feed row and
//! one `feed_fanout` queue row naming the other recipients (followers, mentioned accounts), so
//! a post costs the same whatever the number of followers. This worker turns queued rows into
//! home-feed rows in batches (see [`Store::apply_fanouts`](crate::store::Store::apply_fanouts)),
//! oldest first, and only then tells the recipients' `user` streams, so an app that refetches
//! its home timeline on a streaming `update` finds the status there.
//!
//! The queue lives in the database: a fan-out pending when the node stops is applied after
//! the next start. With several processes on one PostgreSQL, each process's worker claims
//! different rows; the `user` stream event then goes out from the process that applied the
//! fan-out (streaming events are in-process today).

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::audience::StreamAudience;
use crate::domain::events::Event;
use crate::domain::Node;
use crate::store::fanout::{Fanout, ROWS_PER_TRANSACTION};

/// How often the queue is checked without being woken (a safety net: other processes on the
/// same database, a wake-up lost to an error).
const POLL: Duration = Duration::from_secs(1);

/// The `user` stream event for an applied fan-out: the home audience only, so streams that
/// already had the status at posting time (public, hashtag, direct, the author's) do not get
/// it again.
pub fn applied_event(f: Fanout) -> Event {
    Event::Status {
        status_id: f.status_id,
        edited: false,
        audience: StreamAudience {
            home: f.recipients,
            ..StreamAudience::default()
        },
    }
}

/// Applies every queued fan-out, publishing each one's `user` stream event after its rows are
/// committed. Returns how many fan-outs it applied. Stops early (between transactions) when
/// `stop` says so.
pub async fn drain(
    node: &Node,
    stop: &watch::Receiver<bool>,
) -> Result<usize, crate::store::StoreError> {
    let mut applied = 0;
    while !*stop.borrow() {
        let done = node.store.apply_fanouts(ROWS_PER_TRANSACTION).await?;
        if done.is_empty() {
            break;
        }
        applied += done.len();
        for f in done {
            tracing::debug!(
                status_id = f.status_id,
                recipients = f.recipients.len(),
                "home feeds written"
            );
            node.hub.publish(applied_event(f));
        }
    }
    Ok(applied)
}

/// Runs until `stop` turns true. A transaction in progress is finished first; what is still
/// queued then is applied after the next start.
pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = drain(&node, &stop).await {
            tracing::error!(error = %e, "cannot apply the home-feed fan-out queue; will retry");
        }
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = node.fanout_wake.notified() => {},
            _ = tokio::time::sleep(POLL) => {},
        }
    }
    match node.store.pending_fanouts().await {
        Ok(0) | Err(_) => {}
        Ok(pending) => {
            tracing::info!(
                pending,
                "home-feed fan-outs left queued; applied on the next start"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applied_event_concerns_home_streams_only() {
        let Event::Status {
            status_id,
            edited,
            audience,
        } = applied_event(Fanout {
            status_id: 9,
            author_id: 1,
            recipients: vec![2, 3],
        })
        else {
            panic!("not a status event");
        };
        assert_eq!((status_id, edited), (9, false));
        assert_eq!(audience.home, vec![2, 3]);
        assert!(!audience.public && !audience.local);
        assert!(audience.tags.is_empty() && audience.direct.is_empty());
    }
}
