//! Follow: a remote account follows a local one (accepted at once unless the account is locked).

use fika_federation::activities::id_of;
use serde_json::Value;

use crate::domain::federation::resolve::local_account_by_url;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
) -> Result<(), DomainError> {
    let target_url = activity
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| DomainError::Invalid("Follow without object".into()))?;
    let target = local_account_by_url(node, target_url)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))?;
    // A follow across a block is dropped (with the reason in the log).
    crate::domain::follows::refuse_if_blocked(node, actor, &target).await?;
    let follow_id = id_of(activity);
    // The Accept is written with the follow (or, for a request, when the target approves).
    crate::domain::follows::follow_local(node, actor, &target, true, false, follow_id).await?;
    Ok(())
}
