//! Add and Remove: a peer's account pins or unpins one of its statuses (its `featured`
//! collection). Other collections are not ours to mirror.

use fika_federation::protocol::Inbound;

use crate::domain::federation::resolve::known_status_for_peers;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

/// The target must be the actor's own `featured` collection.
pub(super) fn check(inbound: &Inbound, actor: &str) -> Result<(), DomainError> {
    let target = inbound
        .raw
        .get("target")
        .and_then(fika_federation::activities::id_of);
    if target != Some(fika_federation::actor::featured_url(actor).as_str()) {
        return Err(DomainError::Invalid(format!(
            "{} of something other than the actor's featured collection",
            inbound.kind.as_str()
        )));
    }
    if inbound.object.id().is_none() {
        return Err(DomainError::Invalid("Add or Remove without object".into()));
    }
    Ok(())
}

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    inbound: &Inbound,
    pinned: bool,
) -> Result<(), DomainError> {
    let id = inbound.object.id().unwrap_or_default();
    match known_status_for_peers(node, id).await? {
        Some(status) => crate::domain::pins::receive(node, actor, &status, pinned).await,
        // A status we never received (nobody here follows them): nothing to pin.
        None => {
            tracing::debug!(status = id, "pin of a status not held, ignored");
            Ok(())
        }
    }
}
