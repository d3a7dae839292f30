//! Muted conversations (Mastodon's `/api/v1/statuses/:id/mute`): the user hears nothing more
//! about a thread, whoever replies, favourites or boosts in it. The rule is applied as each
//! notification is written (`store::statuses::POLICY_VERDICT_SQL`).

use super::{statuses, DomainError, Node};
use crate::convert::views::StatusView;
use crate::store::accounts::AccountRow;

/// Mutes (`muted`) or unmutes the conversation status `id` is in.
pub async fn mute(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    muted: bool,
) -> Result<StatusView, DomainError> {
    let status = statuses::visible_status(node, Some(viewer), id).await?;
    node.store.mute_thread(viewer.id, status.id, muted).await?;
    statuses::view(node, viewer, status.id).await
}
