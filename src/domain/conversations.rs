//! Conversations (Mastodon's `/api/v1/conversations`): threads of direct statuses. A direct
//! status joins its parent's conversation when the parent is direct too, and starts one
//! otherwise; each local participant's row (newest status, unread, the others in it) is
//! written with the status. The `direct` stream sends the same entity.

use super::audience::Scope;
use super::{accounts, statuses, DomainError, Node};
use crate::convert::views::ConversationView;
use crate::store::accounts::AccountRow;
use crate::store::conversations::{ConversationRow, NewConversationEntry};
use crate::store::statuses::{Page, StatusRow};

/// The conversation entry of a status about to be written: none unless it is direct.
pub async fn entry(
    node: &Node,
    visibility: Scope,
    status_id: i64,
    author: &AccountRow,
    parent: Option<&StatusRow>,
    addressed: &[AccountRow],
) -> Result<Option<NewConversationEntry>, DomainError> {
    if visibility != Scope::Direct {
        return Ok(None);
    }
    let conversation_id = match parent.filter(|p| p.visibility == Scope::Direct) {
        Some(p) => node.store.conversation_of(p.id).await?.unwrap_or(p.id),
        None => status_id,
    };
    let mut participants = vec![author.id];
    let mut local = Vec::new();
    if author.is_local() {
        local.push(author.id);
    }
    for a in addressed.iter().filter(|a| !a.is_group) {
        if !participants.contains(&a.id) {
            participants.push(a.id);
            if a.is_local() {
                local.push(a.id);
            }
        }
    }
    Ok(Some(NewConversationEntry {
        conversation_id,
        participants,
        local,
    }))
}

async fn views(
    node: &Node,
    viewer: &AccountRow,
    rows: Vec<ConversationRow>,
) -> Result<Vec<ConversationView>, DomainError> {
    let status_ids: Vec<i64> = rows.iter().map(|r| r.last_status_id).collect();
    let shown = statuses::views(node, Some(viewer), &status_ids).await?;
    let mut people: Vec<i64> = rows.iter().flat_map(|r| r.participants()).collect();
    people.sort_unstable();
    people.dedup();
    let accounts = accounts::views_by_id(node, &people).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let last_status = shown
                .iter()
                .find(|s| s.row.id == row.last_status_id)?
                .clone();
            let accounts = row
                .participants()
                .iter()
                .filter_map(|p| accounts.get(p).cloned())
                .collect();
            Some(ConversationView {
                row,
                last_status,
                accounts,
            })
        })
        .collect())
}

/// A page of the viewer's conversations, with the cursors of the rows read.
pub async fn list(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<(Vec<ConversationView>, Option<(i64, i64)>), DomainError> {
    let rows = node.store.conversations(viewer.id, page).await?;
    let keys = rows
        .first()
        .zip(rows.last())
        .map(|(a, b)| (a.last_status_id, b.last_status_id));
    Ok((views(node, viewer, rows).await?, keys))
}

async fn one(node: &Node, viewer: &AccountRow, id: i64) -> Result<ConversationRow, DomainError> {
    node.store
        .conversation(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("conversation"))
}

/// Marks a conversation read; returns it.
pub async fn read(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<ConversationView, DomainError> {
    one(node, viewer, id).await?;
    node.store.mark_conversation_read(viewer.id, id).await?;
    let row = one(node, viewer, id).await?;
    views(node, viewer, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("conversation"))
}

/// Takes a conversation off the viewer's list (its statuses stay).
pub async fn remove(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    one(node, viewer, id).await?;
    node.store.delete_conversation(viewer.id, id).await?;
    Ok(())
}

/// The viewer's conversation a direct status is in, for the `direct` stream.
pub async fn of_status(
    node: &Node,
    viewer: &AccountRow,
    status_id: i64,
) -> Result<Option<ConversationView>, DomainError> {
    let Some(id) = node.store.conversation_of(status_id).await? else {
        return Ok(None);
    };
    let Some(row) = node.store.conversation(viewer.id, id).await? else {
        return Ok(None);
    };
    Ok(views(node, viewer, vec![row]).await?.pop())
}
