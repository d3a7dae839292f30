//! The notification policy (Mastodon 4.3's `/api/v2/notifications/policy`) and the requests
//! it files: notifications from senders the user filters wait, one request per sender, until
//! the user accepts or dismisses them. The rule itself is SQL, applied as each notification is
//! written (`store::statuses::POLICY_VERDICT_SQL`), so nothing is filtered after paging.

use super::filters::Context;
use super::{DomainError, Node};
use crate::convert::views::{NotificationPolicyView, NotificationRequestView};
use crate::store::accounts::AccountRow;
use crate::store::notification_policy::{NotificationPolicyRow, NotificationRequestRow};
use crate::store::statuses::Page;

/// One of the policy's answers.
pub fn check_answer(field: &str, value: &str) -> Result<String, DomainError> {
    match value {
        "accept" | "filter" | "drop" => Ok(value.to_string()),
        other => Err(DomainError::Invalid(format!(
            "Validation failed: {field} {other:?} is not one of accept, filter, drop"
        ))),
    }
}

/// What a change of the policy sets; `None` keeps the current answer.
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    pub for_not_following: Option<String>,
    pub for_not_followers: Option<String>,
    pub for_new_accounts: Option<String>,
    pub for_private_mentions: Option<String>,
    pub for_limited_accounts: Option<String>,
}

/// The policy with the current answers replaced by those given (each checked).
pub fn changed(
    current: NotificationPolicyRow,
    c: &PolicyChange,
) -> Result<NotificationPolicyRow, DomainError> {
    let pick = |field: &str, new: &Option<String>, old: String| match new {
        Some(v) => check_answer(field, v),
        None => Ok(old),
    };
    Ok(NotificationPolicyRow {
        for_not_following: pick(
            "for_not_following",
            &c.for_not_following,
            current.for_not_following,
        )?,
        for_not_followers: pick(
            "for_not_followers",
            &c.for_not_followers,
            current.for_not_followers,
        )?,
        for_new_accounts: pick(
            "for_new_accounts",
            &c.for_new_accounts,
            current.for_new_accounts,
        )?,
        for_private_mentions: pick(
            "for_private_mentions",
            &c.for_private_mentions,
            current.for_private_mentions,
        )?,
        for_limited_accounts: pick(
            "for_limited_accounts",
            &c.for_limited_accounts,
            current.for_limited_accounts,
        )?,
    })
}

pub async fn policy(
    node: &Node,
    viewer: &AccountRow,
) -> Result<NotificationPolicyView, DomainError> {
    let row = node.store.notification_policy(viewer.id).await?;
    let (pending_requests, pending_notifications) =
        node.store.pending_notification_counts(viewer.id).await?;
    Ok(NotificationPolicyView {
        row,
        pending_requests,
        pending_notifications,
    })
}

pub async fn change_policy(
    node: &Node,
    viewer: &AccountRow,
    change: &PolicyChange,
) -> Result<NotificationPolicyView, DomainError> {
    let current = node.store.notification_policy(viewer.id).await?;
    let new = changed(current, change)?;
    node.store.set_notification_policy(viewer.id, &new).await?;
    policy(node, viewer).await
}

async fn views(
    node: &Node,
    viewer: &AccountRow,
    rows: Vec<NotificationRequestRow>,
) -> Result<Vec<NotificationRequestView>, DomainError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.from_account_id).collect();
    let accounts = super::accounts::views_by_id(node, &ids).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_status_id).collect();
    let statuses =
        super::statuses::views_in(node, viewer, &status_ids, Context::Notifications).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let account = accounts.get(&row.from_account_id)?.clone();
            let last_status = row
                .last_status_id
                .and_then(|id| statuses.iter().find(|s| s.row.id == id).cloned());
            Some(NotificationRequestView {
                row,
                account,
                last_status,
            })
        })
        .collect())
}

pub async fn requests(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<(Vec<NotificationRequestView>, Option<(i64, i64)>), DomainError> {
    let rows = node.store.notification_requests(viewer.id, page).await?;
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.id, b.id));
    Ok((views(node, viewer, rows).await?, keys))
}

pub async fn request(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<NotificationRequestView, DomainError> {
    let row = node
        .store
        .notification_request(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("notification request"))?;
    views(node, viewer, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("notification request"))
}

/// Accepts or dismisses one request; NotFound if the viewer has no such request.
pub async fn settle_one(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    accept: bool,
) -> Result<(), DomainError> {
    match node
        .store
        .settle_notification_requests(viewer.id, &[id], accept)
        .await?
    {
        0 => Err(DomainError::NotFound("notification request")),
        _ => Ok(()),
    }
}

/// Accepts or dismisses several requests; ids that are not the viewer's are passed over.
pub async fn settle(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
    accept: bool,
) -> Result<(), DomainError> {
    node.store
        .settle_notification_requests(viewer.id, ids, accept)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_replaces_only_what_it_names_and_checks_it() {
        let c = PolicyChange {
            for_not_following: Some("filter".into()),
            for_new_accounts: Some("drop".into()),
            ..PolicyChange::default()
        };
        let p = changed(NotificationPolicyRow::default(), &c).unwrap();
        assert_eq!(p.for_not_following, "filter");
        assert_eq!(p.for_new_accounts, "drop");
        assert_eq!(p.for_not_followers, "accept");
        assert_eq!(p.for_limited_accounts, "filter");
        let bad = PolicyChange {
            for_private_mentions: Some("maybe".into()),
            ..PolicyChange::default()
        };
        assert!(changed(NotificationPolicyRow::default(), &bad).is_err());
    }
}
