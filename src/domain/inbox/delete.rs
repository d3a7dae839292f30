//! Delete of a status, or of the actor itself.

use fika_federation::activities::id_of;
use serde_json::Value;

use crate::domain::events::Event;
use crate::domain::federation::resolve::actor_id;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    object: &Value,
) -> Result<(), DomainError> {
    let id = id_of(object).ok_or_else(|| DomainError::Invalid("Delete without object".into()))?;
    if crate::domain::announcements::receive_delete(node, actor, id).await? {
        return Ok(());
    }
    if id == actor_id(node, actor) {
        // The actor itself is gone: keep the row (for history) but suspend it.
        node.store.set_suspended(actor.id, true).await?;
        return Ok(());
    }
    if let Some(status) = node.store.status_by_uri(id).await? {
        if status.account_id != actor.id {
            return Err(DomainError::Invalid(
                "Delete of someone else's status".into(),
            ));
        }
        let audience = crate::domain::statuses::audience_of(node, &status).await?;
        // A group here that carries it tells its members' nodes, with the delete.
        let deliveries = crate::domain::groups::relay_change(
            node,
            &status,
            fika_federation::protocol::ActivityKind::Delete,
        )
        .await?;
        node.store
            .delete_status(status.id, None, &deliveries)
            .await?;
        crate::domain::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
        node.hub.publish(Event::Delete {
            status_id: status.id,
            audience,
        });
    } else if same_host(id, &actor_id(node, actor)) {
        // Not held (yet): its Create may be queued behind a fetch. The tombstone keeps it out.
        node.store.add_remote_tombstone(id).await?;
    }
    Ok(())
}

/// Only an actor's own host can delete a status there.
fn same_host(a: &str, b: &str) -> bool {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| fika_federation::policy::url_domain(&u))
    };
    host(a).is_some() && host(a) == host(b)
}
