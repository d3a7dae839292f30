//! Accept / Reject: the answer to a Follow one of our accounts sent.

use fika_federation::activities::id_of;
use serde_json::Value;

use crate::domain::federation::resolve::local_account_by_url;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

/// Accept / Reject of one of our follows. `object` is the Follow or just its id.
pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    object: &Value,
    accepted: bool,
) -> Result<(), DomainError> {
    let store = &node.store;
    // Find the local follower: from the embedded Follow's actor, or by the Follow id we sent.
    let follower = match object.get("actor").and_then(id_of) {
        Some(url) => local_account_by_url(node, url).await?,
        None => match id_of(object).and_then(|id| id.split_once('#').map(|(a, _)| a.to_string())) {
            Some(actor_url) => local_account_by_url(node, &actor_url).await?,
            None => None,
        },
    };
    let follower = follower.ok_or(DomainError::NotFound("follow"))?;
    let Some((reblogs, notify)) = store.follow_request(follower.id, actor.id).await? else {
        if !accepted {
            // A Reject of an established follow ends it.
            store.delete_follow(follower.id, actor.id, &[]).await?;
            store.remove_from_feed(follower.id, actor.id).await?;
        }
        return Ok(());
    };
    let ap_id = store.follow_ap_id(follower.id, actor.id).await?;
    store
        .delete_follow_request(follower.id, actor.id, &[])
        .await?;
    if accepted {
        store
            .insert_follow(
                follower.id,
                actor.id,
                reblogs,
                notify,
                None,
                ap_id.as_deref(),
                &[],
            )
            .await?;
    }
    Ok(())
}
