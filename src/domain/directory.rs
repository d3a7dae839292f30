//! Who knows what: the hashtags a profile features and the directory of discoverable
//! profiles. Searching profiles is `search::accounts`; the index behind it is kept by the store.

use super::{accounts, DomainError, Node};
use crate::convert::views::{AccountView, FeaturedTagView};
use crate::store::accounts::AccountRow;
use crate::store::directory::{DirectoryQuery, MAX_FEATURED_TAGS};

/// How many hashtags `suggestions` offers.
const SUGGESTIONS: i64 = 10;

/// The featured hashtags of `account`, oldest first.
pub async fn featured_tags(
    node: &Node,
    account: &AccountRow,
) -> Result<Vec<FeaturedTagView>, DomainError> {
    Ok(node
        .store
        .featured_tags(account.id)
        .await?
        .into_iter()
        .map(|tag| FeaturedTagView {
            tag,
            account: account.clone(),
        })
        .collect())
}

/// The featured hashtags of the account `id` (local or remote), if others may see it.
pub async fn featured_tags_of(node: &Node, id: i64) -> Result<Vec<FeaturedTagView>, DomainError> {
    let account = accounts::visible(node, id).await?;
    featured_tags(node, &account).await
}

/// Display names of an account's featured hashtags, as its actor document lists them.
pub async fn featured_names(node: &Node, account: i64) -> Result<Vec<String>, DomainError> {
    Ok(node.store.featured_tag_names(account).await?)
}

/// Features a hashtag on `me`'s profile (`name` with or without `#`). Not a hashtag, featured
/// already, or over the limit: refused with nothing written. Peers following `me` get the
/// Update of the actor in the same transaction.
pub async fn feature(
    node: &Node,
    me: &AccountRow,
    name: &str,
) -> Result<FeaturedTagView, DomainError> {
    let display = crate::names::hashtag(name.trim())
        .ok_or_else(|| DomainError::Invalid(format!("Name {name:?} is not a valid hashtag")))?;
    let key = display.to_lowercase();
    let mut names = featured_names(node, me.id).await?;
    if names.iter().any(|n| n.to_lowercase() == key) {
        return Err(DomainError::Conflict("Tag has already been taken".into()));
    }
    names.push(display.to_string());
    let deliveries =
        super::federation::outbound::profile_deliveries(node, me, &names, me.discoverable).await?;
    if !node
        .store
        .add_featured_tag(me.id, &key, display, &deliveries)
        .await?
    {
        return Err(DomainError::Invalid(format!(
            "You can only feature up to {MAX_FEATURED_TAGS} hashtags"
        )));
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    featured_tags(node, me)
        .await?
        .into_iter()
        .find(|t| t.tag.name == key)
        .ok_or(DomainError::NotFound("featured tag"))
}

/// Stops featuring the hashtag `id` of `me`'s profile.
pub async fn unfeature(node: &Node, me: &AccountRow, id: i64) -> Result<(), DomainError> {
    let held = node.store.featured_tags(me.id).await?;
    if !held.iter().any(|t| t.id == id) {
        return Err(DomainError::NotFound("featured tag"));
    }
    let names: Vec<String> = held
        .into_iter()
        .filter(|t| t.id != id)
        .map(|t| t.display)
        .collect();
    let deliveries =
        super::federation::outbound::profile_deliveries(node, me, &names, me.discoverable).await?;
    if !node
        .store
        .remove_featured_tag(me.id, id, &deliveries)
        .await?
    {
        return Err(DomainError::NotFound("featured tag"));
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    Ok(())
}

/// The hashtags `me` used most and does not feature (display names).
pub async fn suggestions(node: &Node, me: &AccountRow) -> Result<Vec<String>, DomainError> {
    Ok(node.store.tag_suggestions(me.id, SUGGESTIONS).await?)
}

/// The directory: discoverable accounts that are not suspended, of this node or of every node
/// this one knows.
pub async fn list(node: &Node, query: DirectoryQuery) -> Result<Vec<AccountView>, DomainError> {
    let ids = node.store.directory(&query).await?;
    accounts::views(node, &ids).await
}
