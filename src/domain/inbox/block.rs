//! Block: a remote account blocks a local one.

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
        .ok_or_else(|| DomainError::Invalid("Block without object".into()))?;
    let target = local_account_by_url(node, target_url)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    crate::domain::blocks::receive_block(node, actor, &target, id_of(activity)).await
}
