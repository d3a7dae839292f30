//! What the node says about itself: who uses it and whom to contact (instance and NodeInfo),
//! each user's read markers, the gauges sysadmins monitor and whether the schema is current.

use super::{DomainError, Node};
use crate::convert::views::{InstanceLimits, InstanceView};
use crate::store::accounts::AccountRow;
use crate::store::social::MarkerRow;

/// Local accounts that are not suspended (every one counts as active until sessions are
/// tracked).
pub async fn local_users(node: &Node) -> Result<i64, DomainError> {
    Ok(node.store.count_local_accounts().await?)
}

/// What the instance endpoints describe.
pub async fn describe(node: &Node) -> Result<InstanceView, DomainError> {
    let users = local_users(node).await?;
    let contact = match node.store.first_admin().await? {
        Some(a) => super::accounts::views(node, &[a.id]).await?.pop(),
        None => None,
    };
    Ok(InstanceView {
        title: node.config.server.node_name.clone(),
        users,
        contact,
        limits: InstanceLimits {
            max_characters: super::statuses::MAX_CHARACTERS,
            max_media_attachments: super::statuses::MAX_MEDIA,
            media_types: super::media::SUPPORTED_TYPES,
            description_limit: super::media::MAX_DESCRIPTION,
            image_size_limit: node.config.media.max_image_bytes,
            image_matrix_limit: super::media::MAX_PIXELS,
            default_local_only: node.config.statuses.default_local_only,
            max_pinned_statuses: super::pins::MAX_PINS,
            poll_max_options: super::polls::MAX_OPTIONS,
            poll_max_characters_per_option: super::polls::MAX_OPTION_CHARS,
            poll_min_expiration: super::polls::min_expiration(node),
            poll_max_expiration: super::polls::MAX_EXPIRATION,
            vapid_key: node.push.public_key().to_string(),
        },
        rules: rules(node),
    })
}

/// The viewer's read markers, only those of `timelines` when it is not empty.
pub async fn markers(
    node: &Node,
    viewer: &AccountRow,
    timelines: &[String],
) -> Result<Vec<MarkerRow>, DomainError> {
    Ok(node
        .store
        .markers(viewer.id)
        .await?
        .into_iter()
        .filter(|m| timelines.is_empty() || timelines.contains(&m.timeline))
        .collect())
}

/// Sets the viewer's read markers, (timeline, last read id) pairs; all of them afterwards.
pub async fn set_markers(
    node: &Node,
    viewer: &AccountRow,
    values: &[(&str, String)],
) -> Result<Vec<MarkerRow>, DomainError> {
    for (timeline, last_read_id) in values {
        node.store
            .set_marker(viewer.id, timeline, last_read_id)
            .await?;
    }
    markers(node, viewer, &[]).await
}

/// What the metrics endpoint reports of the database.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// (peer, state, deliveries) with state `pending` or `dead`.
    pub delivery_queue: Vec<(String, String, i64)>,
    /// (peer, failed attempts of the deliveries still queued).
    pub delivery_failures: Vec<(String, i64)>,
    pub inbox_queue: i64,
    pub local_accounts: i64,
    /// Local accounts that posted in the last 30 days.
    pub active_users: i64,
    /// Backfills of `org` peers: (peer, state, statuses read, statuses stored).
    pub backfills: Vec<(String, String, i64, i64)>,
}

pub async fn gauges(node: &Node) -> Result<Gauges, DomainError> {
    let store = &node.store;
    let delivery_queue = store.delivery_counts().await?;
    let delivery_failures = store.delivery_failures().await?;
    let inbox_queue = store.inbox_queue_depth().await?;
    let (local_accounts, active_users) = store
        .account_activity(crate::store::now_millis() - 30 * 86_400_000)
        .await?;
    let backfills = store
        .backfills()
        .await?
        .into_iter()
        .map(|b| (b.domain, b.state, b.fetched, b.stored))
        .collect();
    Ok(Gauges {
        backfills,
        delivery_queue,
        delivery_failures,
        inbox_queue,
        local_accounts,
        active_users,
    })
}

/// The schema the database carries and the one this binary expects.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub applied: Option<i64>,
    pub expected: i64,
}

impl Schema {
    pub fn is_current(&self) -> bool {
        self.applied == Some(self.expected)
    }
}

/// Asks the database which migration it is at; an error when it does not answer.
pub async fn schema(node: &Node) -> Result<Schema, DomainError> {
    Ok(Schema {
        applied: node.store.applied_migration().await?,
        expected: node.store.latest_known_migration(),
    })
}

/// The node's rules, as configured (`instance.rules`), numbered from 1.
pub fn rules(node: &Node) -> Vec<(usize, String)> {
    node.config
        .instance
        .rules
        .iter()
        .filter(|r| !r.trim().is_empty())
        .enumerate()
        .map(|(i, r)| (i + 1, r.trim().to_string()))
        .collect()
}

/// The peers this node federates with, for signed-in staff: the other nodes of the
/// organisation (and partners) they can find colleagues on.
pub fn peers(node: &Node) -> Vec<String> {
    let own = node.urls.domain.to_ascii_lowercase();
    node.fed
        .net
        .policy()
        .allowed_peers()
        .into_iter()
        .filter(|d| *d != own)
        .collect()
}

/// Weekly activity over the last twelve weeks, newest first: (week start in seconds, local
/// statuses, logins (tokens issued), registrations).
pub async fn activity(node: &Node) -> Result<Vec<(i64, i64, i64, i64)>, DomainError> {
    const DAY_MS: i64 = 86_400_000;
    const WEEK_MS: i64 = 7 * DAY_MS;
    let now = crate::store::now_millis();
    // Weeks start on Monday, as Mastodon's do (the epoch was a Thursday).
    let this_week = (now - 4 * DAY_MS).div_euclid(WEEK_MS) * WEEK_MS + 4 * DAY_MS;
    let mut out = Vec::new();
    for back in 0..12 {
        let start = this_week - back * WEEK_MS;
        let (statuses, logins, registrations) =
            node.store.activity_between(start, start + WEEK_MS).await?;
        out.push((start / 1000, statuses, logins, registrations));
    }
    Ok(out)
}
