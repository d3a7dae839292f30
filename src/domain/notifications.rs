//! Notifications as the recipient reads them.

use std::collections::HashMap;

use super::{DomainError, Node};
use crate::convert::views::{GroupedPage, NotificationGroup, NotificationView, StatusView};
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
            group_key: group_key(n, &GROUPED_TYPES),
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
    /// Also those the notification policy filtered (Mastodon's `include_filtered`).
    pub include_filtered: bool,
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
        .notifications(
            viewer.id,
            &q.types,
            &q.exclude_types,
            q.account,
            q.include_filtered,
            page,
        )
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

/// At most this many accounts are named per group.
pub const SAMPLE_ACCOUNTS: usize = 8;

/// The types Mastodon groups (`grouped_types` defaults to these).
pub const GROUPED_TYPES: [&str; 3] = ["favourite", "follow", "reblog"];

/// The group a notification belongs to, as `/api/v2/notifications` and `group_key` on every
/// notification name it: favourites and reblogs of one status, follows of one day; anything
/// else (or a type not in `grouped`) is a group of one.
pub fn group_key(row: &NotificationRow, grouped: &[&str]) -> String {
    let kind = row.kind.as_str();
    if grouped.contains(&kind) {
        match (kind, row.status_id) {
            ("favourite" | "reblog", Some(status)) => return format!("{kind}-{status}"),
            ("follow", _) => return format!("follow-{}", row.created_at / 86_400_000),
            _ => {}
        }
    }
    format!("ungrouped-{}", row.id)
}

/// Groups notifications (newest first) into at most `limit` groups, in the order of their
/// newest member. Returns the groups and how many of `views` they used.
pub fn group(
    views: &[NotificationView],
    grouped: &[&str],
    limit: usize,
) -> (Vec<NotificationGroup>, usize) {
    let mut groups: Vec<NotificationGroup> = Vec::new();
    let mut used = 0;
    for v in views {
        let key = group_key(&v.row, grouped);
        let full = groups.len() == limit;
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => {
                g.count += 1;
                g.page_min_id = g.page_min_id.min(v.row.id);
                if g.sample_account_ids.len() < SAMPLE_ACCOUNTS
                    && !g.sample_account_ids.contains(&v.row.from_account_id)
                {
                    g.sample_account_ids.push(v.row.from_account_id);
                }
            }
            None if full => break,
            None => groups.push(NotificationGroup {
                key,
                kind: v.row.kind.clone(),
                count: 1,
                most_recent_id: v.row.id,
                page_min_id: v.row.id,
                page_max_id: v.row.id,
                latest_at: v.row.created_at,
                sample_account_ids: vec![v.row.from_account_id],
                status_id: v.status.as_ref().map(|s| s.row.id),
                report: v.report.clone(),
            }),
        }
        used += 1;
    }
    (groups, used)
}

/// `/api/v2/notifications`: the viewer's notifications grouped, up to `page.limit` groups.
/// Groups are made from a window of up to four times as many notifications.
pub async fn grouped(
    node: &Node,
    viewer: &AccountRow,
    q: &ListQuery,
    grouped_types: &[String],
    page: &Page,
) -> Result<GroupedPage, DomainError> {
    let window = Page {
        limit: (page.limit * 4).min(320),
        ..*page
    };
    let rows = node
        .store
        .notifications(
            viewer.id,
            &q.types,
            &q.exclude_types,
            q.account,
            q.include_filtered,
            &window,
        )
        .await?;
    let grouped: Vec<&str> = grouped_types.iter().map(String::as_str).collect();
    let shown = views(node, viewer, &rows).await?;
    let (groups, used) = group(&shown, &grouped, page.limit as usize);
    // Cursors: the newest row read and the oldest one the groups used.
    let keys = match (rows.first(), shown.get(used.saturating_sub(1))) {
        (Some(first), Some(last)) if used > 0 => Some((first.id, last.row.id)),
        _ => None,
    };
    let mut account_ids: Vec<i64> = Vec::new();
    let mut statuses: Vec<StatusView> = Vec::new();
    for v in shown.iter().take(used) {
        if groups
            .iter()
            .any(|g| g.sample_account_ids.contains(&v.row.from_account_id))
            && !account_ids.contains(&v.row.from_account_id)
        {
            account_ids.push(v.row.from_account_id);
        }
        if let Some(s) = &v.status {
            if !statuses.iter().any(|x| x.row.id == s.row.id) {
                statuses.push(s.clone());
            }
        }
    }
    let accounts = super::accounts::views(node, &account_ids).await?;
    Ok(GroupedPage {
        groups,
        accounts,
        statuses,
        keys,
    })
}

/// The rows of one of the viewer's groups among its newest notifications (a group lives in
/// the recent past: favourites of a status, follows of a day).
async fn group_rows(
    node: &Node,
    viewer: &AccountRow,
    key: &str,
) -> Result<Vec<NotificationView>, DomainError> {
    let recent = Page {
        limit: 1000,
        ..Page::default()
    };
    let rows = node
        .store
        .notifications(viewer.id, &[], &[], None, false, &recent)
        .await?;
    let mine: Vec<NotificationRow> = rows
        .into_iter()
        .filter(|r| group_key(r, &GROUPED_TYPES) == key)
        .collect();
    if mine.is_empty() {
        return Err(DomainError::NotFound("notification group"));
    }
    views(node, viewer, &mine).await
}

/// One group, as a page of one.
pub async fn group_of(
    node: &Node,
    viewer: &AccountRow,
    key: &str,
) -> Result<GroupedPage, DomainError> {
    let shown = group_rows(node, viewer, key).await?;
    let (groups, _) = group(&shown, &GROUPED_TYPES, 1);
    let mut account_ids: Vec<i64> = Vec::new();
    for v in &shown {
        if !account_ids.contains(&v.row.from_account_id) {
            account_ids.push(v.row.from_account_id);
        }
    }
    account_ids.truncate(SAMPLE_ACCOUNTS);
    Ok(GroupedPage {
        accounts: super::accounts::views(node, &account_ids).await?,
        statuses: shown
            .iter()
            .filter_map(|v| v.status.clone())
            .take(1)
            .collect(),
        groups,
        keys: None,
    })
}

/// Everyone in one group, newest first.
pub async fn group_accounts(
    node: &Node,
    viewer: &AccountRow,
    key: &str,
) -> Result<Vec<crate::convert::views::AccountView>, DomainError> {
    let shown = group_rows(node, viewer, key).await?;
    let mut ids: Vec<i64> = Vec::new();
    for v in &shown {
        if !ids.contains(&v.row.from_account_id) {
            ids.push(v.row.from_account_id);
        }
    }
    super::accounts::views(node, &ids).await
}

/// Dismisses every notification of one group.
pub async fn dismiss_group(node: &Node, viewer: &AccountRow, key: &str) -> Result<(), DomainError> {
    let shown = group_rows(node, viewer, key).await?;
    for v in &shown {
        node.store
            .delete_notifications(viewer.id, Some(v.row.id))
            .await?;
    }
    Ok(())
}

/// How many notifications came after the viewer's `notifications` read marker, up to `limit`.
pub async fn unread_count(
    node: &Node,
    viewer: &AccountRow,
    q: &ListQuery,
    limit: i64,
) -> Result<i64, DomainError> {
    let marker = node
        .store
        .markers(viewer.id)
        .await?
        .into_iter()
        .find(|m| m.timeline == "notifications")
        .and_then(|m| m.last_read_id.parse::<i64>().ok());
    let page = Page {
        since_id: marker,
        limit,
        ..Page::default()
    };
    let rows = node
        .store
        .notifications(
            viewer.id,
            &q.types,
            &q.exclude_types,
            q.account,
            false,
            &page,
        )
        .await?;
    Ok(rows.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: &str, from: i64, status: Option<i64>) -> NotificationRow {
        NotificationRow {
            id,
            account_id: 1,
            from_account_id: from,
            kind: kind.into(),
            status_id: status,
            created_at: 86_400_000 * 3 + id,
            report_id: None,
        }
    }

    #[test]
    fn favourites_of_a_status_group_and_mentions_do_not() {
        assert_eq!(
            group_key(&row(9, "favourite", 2, Some(5)), &GROUPED_TYPES),
            "favourite-5"
        );
        assert_eq!(
            group_key(&row(9, "follow", 2, None), &GROUPED_TYPES),
            "follow-3"
        );
        assert_eq!(
            group_key(&row(9, "mention", 2, Some(5)), &GROUPED_TYPES),
            "ungrouped-9"
        );
        assert_eq!(
            group_key(&row(9, "favourite", 2, Some(5)), &[]),
            "ungrouped-9"
        );
    }
}
