//! Statuses pinned to a profile (Mastodon's pins): one's own, not a boost, not a direct
//! message, at most [`MAX_PINS`]. Peers hear of a pin as an Add to the author's `featured`
//! collection (a Remove when unpinned), written with the pin; their Adds and Removes pin
//! and unpin their accounts' statuses here.

use super::audience::Scope;
use super::federation::outbound;
use super::{statuses, DomainError, Node};
use crate::convert::views::StatusView;
use crate::store::accounts::AccountRow;
use crate::store::pins::Pinned;
use crate::store::statuses::StatusRow;

/// Mastodon's limit.
pub const MAX_PINS: i64 = 5;

/// Why a status cannot be pinned, in Mastodon's words.
pub fn refusal(own: bool, boost: bool, direct: bool) -> Option<&'static str> {
    if boost {
        Some("Boosts cannot be pinned")
    } else if !own {
        Some("Someone else's post cannot be pinned")
    } else if direct {
        Some("Direct messages cannot be pinned")
    } else {
        None
    }
}

pub async fn pin(node: &Node, viewer: &AccountRow, id: i64) -> Result<StatusView, DomainError> {
    let status = statuses::visible_status(node, Some(viewer), id).await?;
    let direct = status.visibility == Scope::Direct;
    let own = status.account_id == viewer.id;
    if let Some(why) = refusal(own, status.reblog_of_id.is_some(), direct) {
        return Err(DomainError::Invalid(why.into()));
    }
    let deliveries = outbound::featured_deliveries(node, &status, viewer, true).await?;
    let outcome = node
        .store
        .pin(viewer.id, status.id, Some(MAX_PINS), &deliveries)
        .await?;
    match outcome {
        Pinned::LimitReached => {
            return Err(DomainError::Invalid(
                "You have already pinned the maximum number of posts".into(),
            ))
        }
        Pinned::Added => outbound::wake_deliveries(node, !deliveries.is_empty()),
        Pinned::AlreadyPinned => {}
    }
    statuses::view(node, viewer, status.id).await
}

pub async fn unpin(node: &Node, viewer: &AccountRow, id: i64) -> Result<StatusView, DomainError> {
    let status = statuses::visible_status(node, Some(viewer), id).await?;
    let deliveries = if status.account_id == viewer.id {
        outbound::featured_deliveries(node, &status, viewer, false).await?
    } else {
        vec![]
    };
    let removed = node.store.unpin(viewer.id, status.id, &deliveries).await?;
    outbound::wake_deliveries(node, removed && !deliveries.is_empty());
    statuses::view(node, viewer, status.id).await
}

/// The statuses `account` pinned, newest pin first, that the viewer may see.
pub async fn of_account(
    node: &Node,
    viewer: &AccountRow,
    account: &AccountRow,
) -> Result<Vec<StatusView>, DomainError> {
    let ids = node.store.pinned_statuses(account.id).await?;
    statuses::views(node, Some(viewer), &ids).await
}

/// A peer's actor pinned (`pinned`) or unpinned one of its statuses we hold.
pub async fn receive(
    node: &Node,
    actor: &AccountRow,
    status: &StatusRow,
    pinned: bool,
) -> Result<(), DomainError> {
    if status.account_id != actor.id || status.reblog_of_id.is_some() {
        return Err(DomainError::Invalid(
            "Add or Remove of a status not the actor's own".into(),
        ));
    }
    if pinned {
        node.store.pin(actor.id, status.id, None, &[]).await?;
    } else {
        node.store.unpin(actor.id, status.id, &[]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ones_own_non_direct_originals_are_pinned() {
        assert_eq!(refusal(true, false, false), None);
        assert!(refusal(true, false, true).unwrap().contains("Direct"));
        assert!(refusal(true, true, false).unwrap().contains("Boosts"));
        assert!(refusal(false, false, false)
            .unwrap()
            .contains("Someone else"));
    }
}
