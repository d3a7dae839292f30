//! The rules of the node. HTTP handlers and the CLI call these; these call the store.

pub mod accounts;
pub mod announcements;
pub mod audience;
pub mod blocks;
pub mod console;
pub mod conversations;
pub mod dashboard;
pub mod directory;
pub mod events;
pub mod federation;
pub mod filters;
pub mod follows;
pub mod group_posts;
pub mod groups;
pub mod inbox;
pub mod insights;
pub mod instance;
pub mod lists;
pub mod login;
pub mod media;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod pins;
pub mod policy;
pub mod polls;
pub mod push;
pub mod reports;
pub mod scheduled;
pub mod search;
pub mod signer_keys;
pub mod sso;
pub mod statuses;
pub mod tags;
pub mod text;
pub mod thread_mutes;
pub mod timelines;

use std::sync::Arc;

use crate::config::Config;
use crate::convert::NodeUrls;
use crate::store::Store;
use events::Hub;

/// What the rules need to act: storage, the node's addresses and settings, the event hub.
#[derive(Clone)]
pub struct Node {
    pub store: Store,
    pub urls: Arc<NodeUrls>,
    pub config: Arc<Config>,
    pub hub: Hub,
    pub fed: Arc<federation::fed::Fed>,
    /// Wakes the home-feed fan-out worker (`jobs::fanout`) when a fan-out was queued.
    pub fanout_wake: Arc<tokio::sync::Notify>,
    /// The company identity providers (`[oidc]`, `[ldap]`) and their caches.
    pub sso: Arc<sso::Sso>,
    /// Accounts already noted active today by this process (`insights::note_activity`).
    pub activity: Arc<insights::ActivitySeen>,
    /// Web Push: the node's VAPID key and the client for push services.
    pub push: Arc<crate::webpush::WebPush>,
}

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request itself is wrong; the message is safe to show to the user.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's role does not allow it; the message is safe to show.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
    /// A peer could not be reached or answered with an error that may pass (a timeout, a 5xx):
    /// trying again later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// Acting needs the network (what for is said), which the inbox request does not wait
    /// for: the activity is queued for the inbox worker instead.
    #[error("needs the network: {0}")]
    Deferred(&'static str),
}

impl DomainError {
    /// May the same work succeed if tried again later?
    pub fn is_transient(&self) -> bool {
        matches!(self, DomainError::Store(_) | DomainError::Unavailable(_))
    }
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => DomainError::Conflict(format!("{what} already exists")),
            other => DomainError::Store(other),
        }
    }
}

impl From<crate::net::NetError> for DomainError {
    fn from(e: crate::net::NetError) -> Self {
        match e {
            crate::net::NetError::Refused(m) => DomainError::Invalid(format!("Refused: {m}")),
            e @ (crate::net::NetError::Transport { .. } | crate::net::NetError::Status { .. })
                if !e.is_permanent() =>
            {
                DomainError::Unavailable(e.to_string())
            }
            other => DomainError::Invalid(other.to_string()),
        }
    }
}
