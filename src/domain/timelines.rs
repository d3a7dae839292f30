//! Lists of statuses: the home feed, the public and hashtag timelines, a profile's statuses,
//! bookmarks and favourites, a list's timeline. The audience rules pick which scopes each list may hold.

use super::audience::{self, Origin, Relation};
use super::filters::Context;
use super::{statuses, DomainError, Node};
use crate::convert::views::StatusView;
use crate::store::accounts::AccountRow;
use crate::store::statuses::{Page, StatusFilter};

/// One page of a list: its statuses and the cursors of its first and last item.
#[derive(Debug, Clone, Default)]
pub struct TimelinePage {
    pub statuses: Vec<StatusView>,
    /// (newest, oldest) cursors; `None` for an empty page.
    pub keys: Option<(i64, i64)>,
}

async fn page_of(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
    keys: Option<(i64, i64)>,
    context: Option<Context>,
) -> Result<TimelinePage, DomainError> {
    // The cursors are those of the rows read, so a page emptied by a filter still pages on.
    let statuses = match context {
        Some(c) => statuses::views_in(node, viewer, ids, c).await?,
        None => statuses::views(node, Some(viewer), ids).await?,
    };
    Ok(TimelinePage { statuses, keys })
}

fn keys_of(ids: &[i64]) -> Option<(i64, i64)> {
    ids.first().zip(ids.last()).map(|(a, b)| (*a, *b))
}

/// The viewer's home feed (without the members of their exclusive lists).
pub async fn home(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<TimelinePage, DomainError> {
    let ids = node.store.home_feed(viewer.id, page).await?;
    page_of(node, viewer, &ids, keys_of(&ids), Some(Context::Home)).await
}

/// What the public and hashtag timelines are asked for.
#[derive(Debug, Clone, Default)]
pub struct PublicQuery {
    /// Only local statuses / only remote ones (both or neither: all).
    pub local: bool,
    pub remote: bool,
    pub only_media: bool,
    /// A hashtag (without `#`) for the hashtag timeline.
    pub tag: Option<String>,
}

/// The public timeline, or a hashtag's.
pub async fn public(
    node: &Node,
    viewer: &AccountRow,
    q: PublicQuery,
    page: &Page,
) -> Result<TimelinePage, DomainError> {
    let local = match (q.local, q.remote) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let origin = local.map(|l| if l { Origin::Local } else { Origin::Remote });
    let visibilities = match q.tag {
        Some(_) => audience::on_hashtag_timeline(origin),
        None => audience::on_public_timeline(origin),
    };
    let filter = StatusFilter {
        visibilities,
        local,
        tag: q.tag,
        exclude_reblogs: true,
        only_media: q.only_media,
        hidden_for: Some(viewer.id),
        // Accounts moderators limited reach only their followers.
        limited_for: Some(viewer.id),
        ..Default::default()
    };
    let ids = node.store.list_statuses(&filter, page).await?;
    page_of(node, viewer, &ids, keys_of(&ids), Some(Context::Public)).await
}

/// What a profile's statuses are asked for.
#[derive(Debug, Clone, Default)]
pub struct ProfileQuery {
    pub only_media: bool,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    /// Only the pinned statuses.
    pub pinned: bool,
    pub tagged: Option<String>,
}

/// The statuses on `account`'s profile that the viewer may list.
pub async fn statuses_of(
    node: &Node,
    viewer: &AccountRow,
    account: &AccountRow,
    q: ProfileQuery,
    page: &Page,
) -> Result<TimelinePage, DomainError> {
    let (following, blockers) = node
        .store
        .following_and_blockers_among(viewer.id, &[account.id])
        .await?;
    // Someone who blocks the viewer shows it nothing (the viewer's own blocks and mutes do
    // not empty a profile it opens).
    if blockers.contains(&account.id) {
        return Ok(TimelinePage::default());
    }
    // Pinned statuses are a handful, listed whole (the cursors stay empty: no next page).
    if q.pinned {
        return Ok(TimelinePage {
            statuses: super::pins::of_account(node, viewer, account).await?,
            keys: None,
        });
    }
    let relation = Relation {
        is_author: viewer.id == account.id,
        follows_author: following.contains(&account.id),
        mentioned: false,
        group_member: false,
    };
    let filter = StatusFilter {
        visibilities: audience::listable_on_profile(Some(relation)),
        account_id: Some(account.id),
        exclude_replies: q.exclude_replies,
        exclude_reblogs: q.exclude_reblogs,
        only_media: q.only_media,
        tag: q.tagged,
        ..Default::default()
    };
    let ids = node.store.list_statuses(&filter, page).await?;
    page_of(node, viewer, &ids, keys_of(&ids), Some(Context::Account)).await
}

/// The viewer's bookmarks or favourites; the cursors are the bookmark's / favourite's own id,
/// as on Mastodon.
pub async fn marked(
    node: &Node,
    viewer: &AccountRow,
    bookmarks: bool,
    page: &Page,
) -> Result<TimelinePage, DomainError> {
    let rows = node
        .store
        .marked_statuses(viewer.id, bookmarks, page)
        .await?;
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.0, b.0));
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    page_of(node, viewer, &ids, keys, None).await
}

/// The timeline of the viewer's list `id` (another's is "not found").
pub async fn list(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    page: &Page,
) -> Result<TimelinePage, DomainError> {
    let list = super::lists::get(node, viewer, id).await?;
    let ids = node.store.list_feed(&list, page, None).await?;
    page_of(node, viewer, &ids, keys_of(&ids), Some(Context::Home)).await
}
