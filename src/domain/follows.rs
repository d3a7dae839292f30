//! Following: requests for locked accounts, the home feed kept in step, relationships.

use serde_json::{json, Value};

use super::audience;
use super::events::Event;
use super::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::statuses::NewNotification;

async fn target(node: &Node, viewer: &AccountRow, id: i64) -> Result<AccountRow, DomainError> {
    let target = node
        .store
        .account_by_id(id)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))?;
    if target.id == viewer.id {
        return Err(DomainError::Invalid("You cannot follow yourself".into()));
    }
    Ok(target)
}

/// What the follower may now read of the followed account, copied into the home feed.
async fn backfill(node: &Node, follower: i64, followed: i64) -> Result<(), DomainError> {
    node.store
        .backfill_feed(follower, followed, &audience::home_backfill())
        .await?;
    Ok(())
}

pub async fn follow(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
    reblogs: bool,
    notify: bool,
) -> Result<Value, DomainError> {
    let target = target(node, viewer, target_id).await?;
    let store = &node.store;
    let already = store.follows(viewer.id, target.id).await?;
    if !target.is_local() && !already {
        // A remote follow is a request until the peer's Accept arrives.
        if store
            .insert_follow_request(viewer.id, target.id, reblogs, notify, None)
            .await?
        {
            let id = format!(
                "{}#follows/{}",
                node.urls.actor(&viewer.username),
                crate::ids::next_id()
            );
            store.set_follow_ap_id(viewer.id, target.id, &id).await?;
            let activity = super::federation::follow_activity(node, viewer, &target, &id);
            super::federation::send_to(node, viewer, &target, activity).await?;
        }
    } else {
        follow_local(node, viewer, &target, reblogs, notify).await?;
    }
    Ok(relationships(node, viewer, &[target.id]).await?.remove(0))
}

/// `follower` (local or remote) follows the local account `target`: a request with a
/// `follow_request` notification when the target approves followers (and is not followed
/// yet), otherwise a follow with a `follow` notification. Returns whether the follow is
/// established. Local followers get the target's recent statuses in their home feed.
pub async fn follow_local(
    node: &Node,
    follower: &AccountRow,
    target: &AccountRow,
    reblogs: bool,
    notify: bool,
) -> Result<bool, DomainError> {
    let store = &node.store;
    let requested = target.locked && !store.follows(follower.id, target.id).await?;
    let note = NewNotification {
        id: crate::ids::next_id(),
        account_id: target.id,
        from_account_id: follower.id,
        kind: if requested {
            "follow_request"
        } else {
            "follow"
        },
        status_id: None,
    };
    let created = if requested {
        store
            .insert_follow_request(follower.id, target.id, reblogs, notify, Some(note.clone()))
            .await?
    } else {
        store
            .insert_follow(follower.id, target.id, reblogs, notify, Some(note.clone()))
            .await?
    };
    if created {
        if !requested && follower.is_local() {
            backfill(node, follower.id, target.id).await?;
        }
        node.hub.publish(Event::Notification {
            account_id: target.id,
            notification_id: note.id,
        });
    }
    Ok(!requested)
}

pub async fn unfollow(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
) -> Result<Value, DomainError> {
    let target = target(node, viewer, target_id).await?;
    let ap_id = node.store.follow_ap_id(viewer.id, target.id).await?;
    let was = node.store.follows(viewer.id, target.id).await?
        || node
            .store
            .follow_request(viewer.id, target.id)
            .await?
            .is_some();
    node.store.delete_follow(viewer.id, target.id).await?;
    node.store.remove_from_feed(viewer.id, target.id).await?;
    if was && !target.is_local() {
        let follow = serde_json::json!({
            "id": ap_id,
            "type": "Follow",
            "actor": super::federation::actor_id(node, viewer),
            "object": super::federation::actor_id(node, &target),
        });
        let undo = super::federation::undo(node, viewer, follow);
        super::federation::send_to(node, viewer, &target, undo).await?;
    }
    Ok(relationships(node, viewer, &[target.id]).await?.remove(0))
}

/// `viewer` accepts `requester`'s follow request.
pub async fn authorize(
    node: &Node,
    viewer: &AccountRow,
    requester: i64,
) -> Result<Value, DomainError> {
    let (reblogs, notify) = node
        .store
        .follow_request(requester, viewer.id)
        .await?
        .ok_or(DomainError::NotFound("follow request"))?;
    let ap_id = node.store.follow_ap_id(requester, viewer.id).await?;
    node.store
        .delete_follow_request(requester, viewer.id)
        .await?;
    if let Some(remote) = node
        .store
        .account_by_id(requester)
        .await?
        .filter(|a| !a.is_local())
    {
        node.store
            .insert_follow(requester, viewer.id, reblogs, notify, None)
            .await?;
        if let Some(id) = &ap_id {
            node.store
                .set_follow_ap_id(requester, viewer.id, id)
                .await?;
        }
        let accept =
            super::federation::answer_follow(node, "Accept", viewer, &remote, ap_id.as_deref());
        super::federation::send_to(node, viewer, &remote, accept).await?;
        return Ok(relationships(node, viewer, &[requester]).await?.remove(0));
    }
    let note = NewNotification {
        id: crate::ids::next_id(),
        account_id: viewer.id,
        from_account_id: requester,
        kind: "follow",
        status_id: None,
    };
    if node
        .store
        .insert_follow(requester, viewer.id, reblogs, notify, Some(note.clone()))
        .await?
    {
        backfill(node, requester, viewer.id).await?;
    }
    Ok(relationships(node, viewer, &[requester]).await?.remove(0))
}

pub async fn reject(
    node: &Node,
    viewer: &AccountRow,
    requester: i64,
) -> Result<Value, DomainError> {
    if !node
        .store
        .delete_follow_request(requester, viewer.id)
        .await?
    {
        return Err(DomainError::NotFound("follow request"));
    }
    Ok(relationships(node, viewer, &[requester]).await?.remove(0))
}

/// Mastodon Relationship entities, one per id, in order (unknown ids included, all false).
pub async fn relationships(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
) -> Result<Vec<Value>, DomainError> {
    let facts = node.store.relation_facts(viewer.id, ids).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let following = facts.following.contains(id);
            let requested = facts.requested.contains(id);
            json!({
                "id": id.to_string(),
                "following": following,
                "showing_reblogs": (following || requested) && !facts.hiding_reblogs.contains(id),
                "notifying": facts.notifying.contains(id),
                "languages": null,
                "followed_by": facts.followed_by.contains(id),
                "blocking": false,
                "blocked_by": false,
                "muting": false,
                "muting_notifications": false,
                "requested": requested,
                "requested_by": facts.requested_by.contains(id),
                "domain_blocking": false,
                "endorsed": false,
                "note": "",
            })
        })
        .collect())
}
