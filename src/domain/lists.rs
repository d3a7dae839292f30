//! Lists (`/api/v1/lists`): named subsets of the accounts one follows, each with a timeline
//! read from its owner's home feed (`timelines::list`) and a `list` stream. Members of an
//! exclusive list stay out of the owner's home timeline. Only accounts the owner follows may
//! be members: unfollowing (and a group's deletion) removes them, in `store/social.rs` and
//! `store/groups.rs`.

use super::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::lists::{ListRow, RepliesPolicy};
use crate::store::now_millis;
use crate::store::statuses::Page;

/// Lists one account may have, as on Mastodon.
const LISTS_PER_ACCOUNT: i64 = 50;

/// What a create or update asks for; `None` keeps (or, on create, defaults) the value.
#[derive(Debug, Clone, Default)]
pub struct ListChange {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

/// The viewer's list `id`; another's, or none, is "not found" (as Mastodon answers).
pub async fn get(node: &Node, viewer: &AccountRow, id: i64) -> Result<ListRow, DomainError> {
    node.store
        .list_by_id(id)
        .await?
        .filter(|l| l.account_id == viewer.id)
        .ok_or(DomainError::NotFound("list"))
}

pub async fn all(node: &Node, viewer: &AccountRow) -> Result<Vec<ListRow>, DomainError> {
    Ok(node.store.lists_of(viewer.id).await?)
}

/// Applies `change` to `list`, with Mastodon's validation messages.
fn apply(list: &mut ListRow, change: ListChange) -> Result<(), DomainError> {
    if let Some(title) = change.title {
        list.title = title.trim().to_string();
    }
    if list.title.is_empty() {
        return Err(DomainError::Invalid("Title can't be blank".into()));
    }
    if let Some(policy) = change.replies_policy {
        list.replies_policy = RepliesPolicy::parse(&policy).ok_or_else(|| {
            DomainError::Invalid("Replies policy is not included in the list".into())
        })?;
    }
    if let Some(exclusive) = change.exclusive {
        list.exclusive = exclusive;
    }
    Ok(())
}

pub async fn create(
    node: &Node,
    viewer: &AccountRow,
    change: ListChange,
) -> Result<ListRow, DomainError> {
    let mut list = ListRow {
        id: crate::ids::next_id(),
        account_id: viewer.id,
        title: String::new(),
        replies_policy: RepliesPolicy::List,
        exclusive: false,
        created_at: now_millis(),
    };
    apply(&mut list, change)?;
    if node.store.count_lists(viewer.id).await? >= LISTS_PER_ACCOUNT {
        return Err(DomainError::Invalid(
            "You have reached the maximum number of lists".into(),
        ));
    }
    node.store.insert_list(&list).await?;
    Ok(list)
}

pub async fn update(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    change: ListChange,
) -> Result<ListRow, DomainError> {
    let mut list = get(node, viewer, id).await?;
    apply(&mut list, change)?;
    node.store.update_list(&list).await?;
    Ok(list)
}

pub async fn delete(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    let list = get(node, viewer, id).await?;
    Ok(node.store.delete_list(list.id).await?)
}

/// A list's members, newest account id first: one page (the cursors are account ids), or all
/// of them with `None` (Mastodon's `limit=0`).
pub async fn members(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    page: Option<&Page>,
) -> Result<super::accounts::AccountPage, DomainError> {
    let list = get(node, viewer, id).await?;
    let ids = node.store.list_member_ids(list.id, page).await?;
    let rows: Vec<(i64, i64)> = ids.iter().map(|id| (*id, *id)).collect();
    let mut out = super::accounts::page(node, &rows).await?;
    if page.is_none() {
        out.keys = None;
    }
    Ok(out)
}

/// Adds accounts to a list, all or none: each must be known (else "not found") and followed
/// by the owner, and not a member already.
pub async fn add(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    accounts: &[i64],
) -> Result<(), DomainError> {
    let list = get(node, viewer, id).await?;
    let mut wanted = accounts.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let known = node.store.accounts_by_ids(&wanted).await?;
    if known.iter().filter(|a| !a.suspended).count() != wanted.len() {
        return Err(DomainError::NotFound("account"));
    }
    let already = node.store.list_members_among(list.id, &wanted).await?;
    if !already.is_empty() {
        return Err(DomainError::Invalid(
            "Account has already been taken".into(),
        ));
    }
    let followed = node.store.following_among(viewer.id, &wanted).await?;
    let not_followed = || {
        // Mastodon's wording.
        DomainError::Invalid("Account follow relationship missing".into())
    };
    if wanted.iter().any(|a| !followed.contains(a)) {
        return Err(not_followed());
    }
    // Checked again as it is written, against an unfollow in between.
    match node
        .store
        .add_list_members(list.id, viewer.id, &wanted)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(not_followed()),
        Err(crate::store::StoreError::Conflict(_)) => Err(DomainError::Invalid(
            "Account has already been taken".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn remove(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    accounts: &[i64],
) -> Result<(), DomainError> {
    let list = get(node, viewer, id).await?;
    Ok(node.store.remove_list_members(list.id, accounts).await?)
}

/// The viewer's lists that hold `account` (a known account, else "not found").
pub async fn containing(
    node: &Node,
    viewer: &AccountRow,
    account: i64,
) -> Result<Vec<ListRow>, DomainError> {
    let account = super::accounts::visible(node, account).await?;
    Ok(node.store.lists_containing(viewer.id, account.id).await?)
}

/// May `viewer` stream list `id`? Only its owner may.
pub async fn may_stream(node: &Node, viewer: &AccountRow, id: i64) -> Result<bool, DomainError> {
    match get(node, viewer, id).await {
        Ok(_) => Ok(true),
        Err(DomainError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Is `status` in the timeline of the viewer's list `id` (for its stream)?
pub async fn streams(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    status: i64,
) -> Result<bool, DomainError> {
    let list = get(node, viewer, id).await?;
    let page = Page {
        limit: 1,
        ..Page::default()
    };
    Ok(!node
        .store
        .list_feed(&list, &page, Some(status))
        .await?
        .is_empty())
}

/// Does an exclusive list of the viewer keep `status` out of their home (and `user` stream)?
pub async fn hidden_from_home(
    node: &Node,
    viewer: &AccountRow,
    status: i64,
) -> Result<bool, DomainError> {
    Ok(node.store.in_exclusive_list(viewer.id, status).await?)
}
