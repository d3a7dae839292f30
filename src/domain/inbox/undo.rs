//! Undo of a Follow, a Like or an Announce.

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
        Some("Announce") => {
            let id = id_of(object)
                .ok_or_else(|| DomainError::Invalid("Undo Announce without id".into()))?;
            if let Some(reblog) = store
                .status_by_uri(id)
                .await?
                .filter(|s| s.account_id == actor.id)
            {
                let audience = crate::domain::statuses::audience_of(node, &reblog).await?;
                store.delete_status(reblog.id, None, &[]).await?;
                node.hub.publish(Event::Delete {
                    status_id: reblog.id,
                    audience,
                });
            }
            Ok(())
        }
        other => Err(DomainError::Invalid(format!(
            "Undo of unsupported type {other:?}"
        ))),
    }
}
