//! Following: requests for locked accounts, the home feed kept in step, relationships.

use fika_federation::protocol::ActivityKind;

use super::accounts::{self, AccountPage};
use super::audience;
use super::{DomainError, Node};
use crate::convert::views::RelationshipView;
use crate::store::accounts::AccountRow;
use crate::store::social::FollowList;
use crate::store::statuses::{NewNotification, Page};
use crate::store::suggestions::SuggestionSource;

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
) -> Result<RelationshipView, DomainError> {
    let target = target(node, viewer, target_id).await?;
    let store = &node.store;
    refuse_if_blocked(node, viewer, &target).await?;
    let already = store.follows(viewer.id, target.id).await?;
    if !target.is_local() && !already {
        if store.follow_request(viewer.id, target.id).await?.is_some() {
            // Already asked: the Follow went out with that request, under its id.
            return Ok(relationships(node, viewer, &[target.id]).await?.remove(0));
        }
        // A remote follow is a request until the peer's Accept arrives; the Follow is written
        // with the request.
        let id = format!(
            "{}#follows/{}",
            node.urls.actor(&viewer.username),
            crate::ids::next_id()
        );
        let activity = super::federation::outbound::follow_activity(node, viewer, &target, &id);
        let deliveries =
            super::federation::outbound::deliveries_to(node, viewer, &target, &activity);
        let created = store
            .insert_follow_request(
                viewer.id,
                target.id,
                reblogs,
                notify,
                None,
                Some(&id),
                &deliveries,
            )
            .await?;
        super::federation::outbound::wake_deliveries(node, created && !deliveries.is_empty());
    } else {
        follow_local(node, viewer, &target, reblogs, notify, None).await?;
    }
    Ok(relationships(node, viewer, &[target.id]).await?.remove(0))
}

/// Neither side of a block may follow the other (Mastodon's "not allowed", 403).
pub(crate) async fn refuse_if_blocked(
    node: &Node,
    follower: &AccountRow,
    target: &AccountRow,
) -> Result<(), DomainError> {
    if node
        .store
        .blocked_either_way(follower.id, target.id)
        .await?
    {
        return Err(DomainError::Forbidden("This action is not allowed".into()));
    }
    Ok(())
}

/// `follower` (local or remote) follows the local account `target`: a request with a
/// `follow_request` notification when the target approves followers (and is not followed
/// yet), otherwise a follow with a `follow` notification. `follow_id` is a remote follower's
/// Follow activity: an established follow is answered with an Accept, written with it.
/// Returns whether the follow is established. Local followers get the target's recent
/// statuses in their home feed.
pub async fn follow_local(
    node: &Node,
    follower: &AccountRow,
    target: &AccountRow,
    reblogs: bool,
    notify: bool,
    follow_id: Option<&str>,
) -> Result<bool, DomainError> {
    let store = &node.store;
    // A group's bans: a banned account cannot join again.
    if target.is_group && store.is_banned(target.id, follower.id).await? {
        return Err(DomainError::Forbidden(
            "You have been banned from this group".into(),
        ));
    }
    let requested = target.locked && !store.follows(follower.id, target.id).await?;
    let deliveries = if requested {
        vec![]
    } else {
        let accept = super::federation::outbound::answer_follow(
            node,
            ActivityKind::Accept,
            target,
            follower,
            follow_id,
        );
        super::federation::outbound::deliveries_to(node, target, follower, &accept)
    };
    let note = NewNotification {
        report_id: None,
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
            .insert_follow_request(
                follower.id,
                target.id,
                reblogs,
                notify,
                Some(note.clone()),
                follow_id,
                &[],
            )
            .await?
    } else {
        let created = store
            .insert_follow(
                follower.id,
                target.id,
                reblogs,
                notify,
                Some(note.clone()),
                follow_id,
                &deliveries,
            )
            .await?;
        super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
        created
    };
    if created {
        if !requested && follower.is_local() {
            backfill(node, follower.id, target.id).await?;
        }
        node.hub.notified([&note]);
    }
    Ok(!requested)
}

pub async fn unfollow(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
) -> Result<RelationshipView, DomainError> {
    let target = target(node, viewer, target_id).await?;
    let deliveries = if target.is_local() {
        vec![]
    } else {
        let ap_id = node.store.follow_ap_id(viewer.id, target.id).await?;
        let follow =
            super::federation::outbound::follow_ref(node, viewer, &target, ap_id.as_deref());
        let undo = super::federation::outbound::undo(node, viewer, follow);
        super::federation::outbound::deliveries_to(node, viewer, &target, &undo)
    };
    // The Undo is written only if there was a follow or request to withdraw.
    let removed = node
        .store
        .delete_follow(viewer.id, target.id, &deliveries)
        .await?;
    super::federation::outbound::wake_deliveries(node, removed && !deliveries.is_empty());
    node.store.remove_from_feed(viewer.id, target.id).await?;
    Ok(relationships(node, viewer, &[target.id]).await?.remove(0))
}

/// `viewer` accepts `requester`'s follow request; a remote requester's Accept is written with
/// the follow.
pub async fn authorize(
    node: &Node,
    viewer: &AccountRow,
    requester: i64,
) -> Result<RelationshipView, DomainError> {
    let remote = node
        .store
        .account_by_id(requester)
        .await?
        .filter(|a| !a.is_local());
    let (note, deliveries) = match &remote {
        Some(remote) => {
            let ap_id = node.store.follow_ap_id(requester, viewer.id).await?;
            let accept = super::federation::outbound::answer_follow(
                node,
                ActivityKind::Accept,
                viewer,
                remote,
                ap_id.as_deref(),
            );
            (
                None,
                super::federation::outbound::deliveries_to(node, viewer, remote, &accept),
            )
        }
        None => (
            Some(NewNotification {
                report_id: None,
                id: crate::ids::next_id(),
                account_id: viewer.id,
                from_account_id: requester,
                kind: "follow",
                status_id: None,
            }),
            vec![],
        ),
    };
    if !node
        .store
        .accept_follow_request(requester, viewer.id, note, &deliveries)
        .await?
    {
        return Err(DomainError::NotFound("follow request"));
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    if remote.is_none() {
        backfill(node, requester, viewer.id).await?;
    }
    Ok(relationships(node, viewer, &[requester]).await?.remove(0))
}

/// `viewer` turns down `requester`'s follow request; a remote requester's Reject is written
/// with the removal.
pub async fn reject(
    node: &Node,
    viewer: &AccountRow,
    requester: i64,
) -> Result<RelationshipView, DomainError> {
    let deliveries = match node
        .store
        .account_by_id(requester)
        .await?
        .filter(|a| !a.is_local())
    {
        Some(remote) => {
            let ap_id = node.store.follow_ap_id(requester, viewer.id).await?;
            let answer = super::federation::outbound::answer_follow(
                node,
                ActivityKind::Reject,
                viewer,
                &remote,
                ap_id.as_deref(),
            );
            super::federation::outbound::deliveries_to(node, viewer, &remote, &answer)
        }
        None => vec![],
    };
    if !node
        .store
        .delete_follow_request(requester, viewer.id, &deliveries)
        .await?
    {
        return Err(DomainError::NotFound("follow request"));
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    Ok(relationships(node, viewer, &[requester]).await?.remove(0))
}

/// The viewer's relationships, one per id, in order (unknown ids included, all false).
pub async fn relationships(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
) -> Result<Vec<RelationshipView>, DomainError> {
    let facts = node.store.relation_facts(viewer.id, ids).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let following = facts.following.contains(id);
            let requested = facts.requested.contains(id);
            RelationshipView {
                id: *id,
                following,
                showing_reblogs: (following || requested) && !facts.hiding_reblogs.contains(id),
                notifying: facts.notifying.contains(id),
                followed_by: facts.followed_by.contains(id),
                requested,
                requested_by: facts.requested_by.contains(id),
                endorsed: facts.endorsed.contains(id),
                blocking: facts.blocking.contains(id),
                blocked_by: facts.blocked_by.contains(id),
                muting: facts.muting.contains(id),
                muting_notifications: facts.muting_notifications.contains(id),
                domain_blocking: facts.domain_blocking.contains(id),
            }
        })
        .collect())
}

/// The viewer's relationship with one account.
pub(crate) async fn relationship(
    node: &Node,
    viewer: &AccountRow,
    target: i64,
) -> Result<RelationshipView, DomainError> {
    relationships(node, viewer, &[target])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("account"))
}

/// Features `target` on the viewer's profile (Mastodon's endorsements): only an account the
/// viewer follows; endorsing twice is endorsing once.
pub async fn endorse(
    node: &Node,
    viewer: &AccountRow,
    target: i64,
) -> Result<RelationshipView, DomainError> {
    let target = accounts::visible(node, target).await?;
    if node.store.endorse(viewer.id, target.id).await?.is_none() {
        return Err(DomainError::Invalid(
            "You must be already following the person you want to endorse".into(),
        ));
    }
    relationship(node, viewer, target.id).await
}

pub async fn unendorse(
    node: &Node,
    viewer: &AccountRow,
    target: i64,
) -> Result<RelationshipView, DomainError> {
    let target = accounts::visible(node, target).await?;
    node.store.unendorse(viewer.id, target.id).await?;
    relationship(node, viewer, target.id).await
}

/// A page of the accounts the viewer endorses.
pub async fn endorsements(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<AccountPage, DomainError> {
    let rows = node.store.endorsements(viewer.id, page).await?;
    accounts::page(node, &rows).await
}

/// Colleagues worth following: people on this node followed by people the viewer follows
/// (most such followers first), then the most followed here; never someone followed,
/// asked for or dismissed.
pub async fn suggestions(
    node: &Node,
    viewer: &AccountRow,
    limit: i64,
) -> Result<Vec<(SuggestionSource, crate::convert::views::AccountView)>, DomainError> {
    let found = node
        .store
        .suggestions(viewer.id, limit.clamp(1, 80))
        .await?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let views = accounts::views(node, &ids).await?;
    Ok(found
        .into_iter()
        .filter_map(|(id, source)| {
            views
                .iter()
                .find(|v| v.row.id == id)
                .map(|v| (source, v.clone()))
        })
        .collect())
}

/// Stops suggesting `target` to the viewer.
pub async fn dismiss_suggestion(
    node: &Node,
    viewer: &AccountRow,
    target: i64,
) -> Result<(), DomainError> {
    let target = accounts::visible(node, target).await?;
    Ok(node.store.dismiss_suggestion(viewer.id, target.id).await?)
}

/// A page of an account's followers or of whom it follows (`account` must be visible: known
/// and not suspended).
pub async fn list(
    node: &Node,
    account: i64,
    kind: FollowList,
    page: &Page,
) -> Result<AccountPage, DomainError> {
    let account = accounts::visible(node, account).await?;
    let rows = node.store.follow_list(account.id, kind, page).await?;
    accounts::page(node, &rows).await
}

/// A page of the follow requests waiting for the viewer.
pub async fn requests(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<AccountPage, DomainError> {
    let rows = node
        .store
        .follow_list(viewer.id, FollowList::Requests, page)
        .await?;
    accounts::page(node, &rows).await
}
