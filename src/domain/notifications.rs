//! Notifications as the recipient reads them.

use std::collections::HashMap;

use super::{DomainError, Node};
use crate::convert::views::{NotificationView, StatusView};
use crate::store::accounts::AccountRow;
use crate::store::social::NotificationRow;
use crate::store::statuses::Page;

pub const TYPES: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.report",
    "report_resolved",
];

/// Notifications with their accounts and statuses; ones whose status the viewer can no longer
/// see are left out.
pub async fn views(
    node: &Node,
    viewer: &AccountRow,
    rows: &[NotificationRow],
) -> Result<Vec<NotificationView>, DomainError> {
    let account_ids: Vec<i64> = rows.iter().map(|n| n.from_account_id).collect();
    let accounts = super::accounts::views_by_id(node, &account_ids).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|n| n.status_id).collect();
    let statuses: HashMap<i64, StatusView> = super::statuses::views_in(
        node,
        viewer,
        &status_ids,
        super::filters::Context::Notifications,
    )
    .await?
    .into_iter()
    .map(|s| (s.row.id, s))
    .collect();
    let mut out = Vec::new();
    for n in rows {
        let Some(account) = accounts.get(&n.from_account_id) else {
            continue;
        };
        let status = match n.status_id {
            Some(id) => match statuses.get(&id) {
                Some(s) => Some(s.clone()),
                None => continue,
            },
            None => None,
        };
        let report = match n.report_id {
            Some(id) => match super::reports::own_report(node, id).await? {
                Some(r) => Some(r),
                None => continue,
            },
            None => None,
        };
        out.push(NotificationView {
            row: n.clone(),
            account: account.clone(),
            status,
            report,
        });
    }
    Ok(out)
}

/// What the notification list is asked for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only these types (all when empty), and never these.
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    /// Only notifications from this account.
    pub account: Option<i64>,
}

/// One page of the viewer's notifications, with the cursors of the rows read (also when some
/// are left out because their status is no longer visible).
#[derive(Debug, Clone, Default)]
pub struct NotificationPage {
    pub notifications: Vec<NotificationView>,
    pub keys: Option<(i64, i64)>,
}

pub async fn list(
    node: &Node,
    viewer: &AccountRow,
    q: &ListQuery,
    page: &Page,
) -> Result<NotificationPage, DomainError> {
    let rows = node
        .store
        .notifications(viewer.id, &q.types, &q.exclude_types, q.account, page)
        .await?;
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.id, b.id));
    Ok(NotificationPage {
        notifications: views(node, viewer, &rows).await?,
        keys,
    })
}

/// One of the viewer's notifications, or NotFound (also when its status is no longer visible).
pub async fn get(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<NotificationView, DomainError> {
    let row = node
        .store
        .notification(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("notification"))?;
    views(node, viewer, &[row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("notification"))
}

/// Dismisses one of the viewer's notifications; NotFound if it has no such notification.
pub async fn dismiss(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    node.store
        .notification(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("notification"))?;
    node.store.delete_notifications(viewer.id, Some(id)).await?;
    Ok(())
}

/// Dismisses all of the viewer's notifications.
pub async fn clear(node: &Node, viewer: &AccountRow) -> Result<(), DomainError> {
    node.store.delete_notifications(viewer.id, None).await?;
    Ok(())
}
