//! Notifications as the recipient reads them.

use std::collections::HashMap;

use super::{DomainError, Node};
use crate::convert::views::{NotificationView, StatusView};
use crate::store::accounts::AccountRow;
use crate::store::social::NotificationRow;

pub const TYPES: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
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
    let statuses: HashMap<i64, StatusView> =
        super::statuses::views(node, Some(viewer), &status_ids)
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
        out.push(NotificationView {
            row: n.clone(),
            account: account.clone(),
            status,
        });
    }
    Ok(out)
}
