//! Like: a favourite of a status we hold.

use fika_federation::activities::id_of;
use serde_json::Value;

use crate::domain::federation::resolve::known_status_for_peers;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::statuses::NewNotification;

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
) -> Result<(), DomainError> {
    let target = activity
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| DomainError::Invalid("Like without object".into()))?;
    let status = known_status_for_peers(node, target)
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let author = node
        .store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let note = author.is_local().then(|| NewNotification {
        report_id: None,
        id: crate::ids::next_id(),
        account_id: author.id,
        from_account_id: actor.id,
        kind: "favourite",
        status_id: Some(status.id),
    });
    if node
        .store
        .favourite(actor.id, status.id, id_of(activity), note.clone(), &[])
        .await?
    {
        node.hub.notified(&note);
    }
    Ok(())
}
