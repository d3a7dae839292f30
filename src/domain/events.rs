//! Events the domain publishes after a write commits, on a channel it owns: the streaming API
//! subscribes, filters and renders them per viewer; workers above the domain publish through
//! the same hub. In-process (with several processes, LISTEN/NOTIFY would feed it).

use std::sync::Arc;

use tokio::sync::broadcast;

use super::audience::StreamAudience;
use crate::store::statuses::NewNotification;

#[derive(Debug, Clone)]
pub enum Event {
    /// A new status (`update`) or an edited one (`status.update`).
    Status {
        status_id: i64,
        edited: bool,
        audience: StreamAudience,
    },
    Delete {
        status_id: i64,
        audience: StreamAudience,
    },
    Notification {
        account_id: i64,
        notification_id: i64,
    },
    /// An announcement shown now, new or edited (`announcement`), to every local member, or
    /// to `to` (a reminder for those who have not read it).
    Announcement { id: i64, to: Option<Vec<i64>> },
    /// A reaction's new count (`announcement.reaction`).
    AnnouncementReaction { id: i64, name: String, count: i64 },
    /// Withdrawn (`announcement.delete`).
    AnnouncementDelete { id: i64 },
    /// The account's filters changed (`filters_changed`, on its `user` streams).
    FiltersChanged { account_id: i64 },
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    /// Flips to true when the node stops, so open streams end and shutdown is not held up.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        // A slow stream that falls this far behind loses events (and is told so by a lag),
        // rather than holding memory for everyone.
        let (tx, _) = broadcast::channel(1024);
        let (closing, _) = tokio::sync::watch::channel(false);
        Hub {
            tx,
            closing: Arc::new(closing),
        }
    }

    /// Ends every open stream (the node is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells the recipients' streams of notifications that were just written.
    pub fn notified<'a>(&self, written: impl IntoIterator<Item = &'a NewNotification>) {
        for n in written {
            self.publish(Event::Notification {
                account_id: n.account_id,
                notification_id: n.id,
            });
        }
    }

    pub fn publish(&self, event: Event) {
        // No subscribers is normal.
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
