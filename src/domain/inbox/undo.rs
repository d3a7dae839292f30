//! Undo of a Follow, a Like, an Announce or a Block, embedded or named by its id alone (ActivityPub
//! allows both; some servers send only the id).

use fika_federation::activities::{id_of, type_of};
use serde_json::Value;

use crate::domain::events::Event;
use crate::domain::federation::resolve::{known_status_for_peers, local_account_by_url};
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    object: &Value,
) -> Result<(), DomainError> {
    let store = &node.store;
    match type_of(object) {
        Some("Follow") => {
            let target = object
                .get("object")
                .and_then(id_of)
                .ok_or_else(|| DomainError::Invalid("Undo Follow without object".into()))?;
            if let Some(local) = local_account_by_url(node, target).await? {
                store.delete_follow(actor.id, local.id, &[]).await?;
            }
            Ok(())
        }
        Some("Like") => {
            let target = object
                .get("object")
                .and_then(id_of)
                .ok_or_else(|| DomainError::Invalid("Undo Like without object".into()))?;
            if let Some(status) = known_status_for_peers(node, target).await? {
                store.unfavourite(actor.id, status.id, &[]).await?;
            }
            Ok(())
        }
        Some("Block") => {
            let target = object
                .get("object")
                .and_then(id_of)
                .ok_or_else(|| DomainError::Invalid("Undo Block without object".into()))?;
            if let Some(local) = local_account_by_url(node, target).await? {
                store.unblock(actor.id, local.id, &[]).await?;
            }
            Ok(())
        }
        Some("Announce") => {
            let id = id_of(object)
                .ok_or_else(|| DomainError::Invalid("Undo Announce without id".into()))?;
            undo_reblog(node, actor, id).await.map(|_| ())
        }
        None => {
            let id =
                id_of(object).ok_or_else(|| DomainError::Invalid("Undo without object".into()))?;
            by_reference(node, actor, id).await
        }
        Some(other) => Err(DomainError::Invalid(format!(
            "Undo of unsupported type {other}"
        ))),
    }
}

/// An Undo naming only an activity's id: only what this actor itself did is looked up, so
/// an actor cannot undo someone else's favourite by knowing its id.
async fn by_reference(node: &Node, actor: &AccountRow, id: &str) -> Result<(), DomainError> {
    let store = &node.store;
    if undo_reblog(node, actor, id).await? {
        return Ok(());
    }
    if let Some(status) = store.favourite_by_ap_id(actor.id, id).await? {
        store.unfavourite(actor.id, status, &[]).await?;
        return Ok(());
    }
    if let Some(target) = store.follow_target_by_ap_id(actor.id, id).await? {
        store.delete_follow(actor.id, target, &[]).await?;
        return Ok(());
    }
    if store.unblock_by_ap_id(actor.id, id).await? {
        return Ok(());
    }
    // Nothing of theirs by that id (never received, or already undone): nothing to do.
    tracing::debug!(
        actor = actor.id,
        activity = id,
        "Undo of an activity not held"
    );
    Ok(())
}

/// Removes `actor`'s boost whose Announce has the id `id`; `false` if there is none.
async fn undo_reblog(node: &Node, actor: &AccountRow, id: &str) -> Result<bool, DomainError> {
    let store = &node.store;
    let Some(reblog) = store
        .status_by_uri(id)
        .await?
        .filter(|s| s.account_id == actor.id && s.reblog_of_id.is_some())
    else {
        return Ok(false);
    };
    let audience = crate::domain::statuses::audience_of(node, &reblog).await?;
    store.delete_status(reblog.id, None, &[]).await?;
    node.hub.publish(Event::Delete {
        status_id: reblog.id,
        audience,
    });
    Ok(true)
}
