//! Hashtags staff follow and look up (`/api/v1/tags`, `/api/v1/followed_tags`), and
//! `familiar_followers`: who among those one follows also follows an account.

use super::{DomainError, Node};
use crate::convert::views::{AccountView, TagView};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;

/// Days of use shown in a tag's history, as Mastodon shows them.
const HISTORY_DAYS: i64 = 7;

fn checked(name: &str) -> Result<&str, DomainError> {
    crate::names::hashtag(name).ok_or_else(|| DomainError::NotFound("tag"))
}

async fn view(node: &Node, viewer: &AccountRow, display: &str) -> Result<TagView, DomainError> {
    let Some((id, _, stored)) = node.store.tag_by_name(display).await? else {
        return Ok(TagView {
            display: display.to_string(),
            following: false,
            history: history_days(&[]),
        });
    };
    let today = now_millis() / 86_400_000;
    let used = node.store.tag_history(id, today - HISTORY_DAYS + 1).await?;
    Ok(TagView {
        display: stored,
        following: node.store.follows_tag(viewer.id, id).await?,
        history: history_days(&used),
    })
}

/// The last [`HISTORY_DAYS`] days, newest first: (day, uses, accounts), zero where unused.
fn history_days(used: &[(i64, i64, i64)]) -> Vec<(i64, i64, i64)> {
    let today = now_millis() / 86_400_000;
    (0..HISTORY_DAYS)
        .map(|back| {
            let day = today - back;
            used.iter()
                .find(|(d, _, _)| *d == day)
                .copied()
                .unwrap_or((day, 0, 0))
        })
        .collect()
}

/// A hashtag as the viewer sees it (any valid name: an unused one has an empty history).
pub async fn get(node: &Node, viewer: &AccountRow, name: &str) -> Result<TagView, DomainError> {
    let name = checked(name)?;
    view(node, viewer, name).await
}

pub async fn follow(node: &Node, viewer: &AccountRow, name: &str) -> Result<TagView, DomainError> {
    let name = checked(name)?;
    node.store.follow_tag(viewer.id, name).await?;
    view(node, viewer, name).await
}

pub async fn unfollow(
    node: &Node,
    viewer: &AccountRow,
    name: &str,
) -> Result<TagView, DomainError> {
    let name = checked(name)?;
    if let Some((id, _, _)) = node.store.tag_by_name(name).await? {
        node.store.unfollow_tag(viewer.id, id).await?;
    }
    view(node, viewer, name).await
}

pub async fn followed(node: &Node, viewer: &AccountRow) -> Result<Vec<TagView>, DomainError> {
    let mut out = Vec::new();
    for (_, _, display) in node.store.followed_tags(viewer.id, 200).await? {
        out.push(view(node, viewer, &display).await?);
    }
    Ok(out)
}

/// For each of `ids`: its followers whom the viewer follows.
pub async fn familiar_followers(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
) -> Result<Vec<(i64, Vec<AccountView>)>, DomainError> {
    let mut out = Vec::new();
    for id in ids.iter().take(40) {
        let familiar = node.store.familiar_followers(viewer.id, *id, 40).await?;
        out.push((*id, super::accounts::views(node, &familiar).await?));
    }
    Ok(out)
}
