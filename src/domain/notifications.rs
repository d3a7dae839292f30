//! Notifications as the recipient reads them.

use std::collections::HashMap;

use serde_json::Value;

use super::{DomainError, Node};
use crate::convert::mastodon;
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

/// Renders notifications; ones whose status the viewer can no longer see are left out.
pub async fn render(
    node: &Node,
    viewer: &AccountRow,
    rows: &[NotificationRow],
) -> Result<Vec<Value>, DomainError> {
    let account_ids: Vec<i64> = rows.iter().map(|n| n.from_account_id).collect();
    let accounts = super::accounts::render_many(node, &account_ids).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|n| n.status_id).collect();
    let rendered = super::statuses::render(node, Some(viewer), &status_ids).await?;
    let statuses: HashMap<String, Value> = rendered
        .into_iter()
        .map(|s| (s["id"].as_str().unwrap_or_default().to_string(), s))
        .collect();
    let mut out = Vec::new();
    for n in rows {
        let Some(account) = accounts.get(&n.from_account_id) else {
            continue;
        };
        let status = match n.status_id {
            Some(id) => match statuses.get(&id.to_string()) {
                Some(s) => Some(s.clone()),
                None => continue,
            },
            None => None,
        };
        out.push(mastodon::notification(n, account.clone(), status));
    }
    Ok(out)
}
