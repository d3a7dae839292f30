//! Reports and moderation: staff report a post or an account (`POST /api/v1/reports`), which
//! tells the node's moderators (`admin.report` notifications) and, when asked and the account
//! is on another node, forwards a `Flag` there signed by this node's own actor (the reporter is
//! never named to the peer). A `Flag` from a peer becomes a report here, filed by that peer's
//! node actor. Moderators work through Mastodon's admin API: reports (assign, resolve, reopen,
//! category) and accounts (none / sensitive / disable / silence / suspend and their undoing).
//! Every moderator's change commits with its audit entry; a resolved report tells its local
//! reporter (`report_resolved`).

use std::collections::HashMap;

use fika_federation::protocol::{Activity, ActivityKind, Object};
use serde_json::Value;

use super::accounts;
use super::{statuses, DomainError, Node};
use crate::convert::views::{AdminAccountView, AdminReportView, ReportView};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::policy::Audit;
use crate::store::reports::{AccountQuery, ModerationChange, ReportQuery, ReportRow};
use crate::store::statuses::{NewNotification, Page};

pub const CATEGORIES: [&str; 4] = ["spam", "legal", "violation", "other"];
pub const MAX_COMMENT: usize = 1000;

/// What a user sends to report an account.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub account_id: i64,
    pub status_ids: Vec<i64>,
    pub comment: String,
    pub category: Option<String>,
    pub rule_ids: Vec<i64>,
    pub forward: bool,
}

fn invalid<T>(m: &str) -> Result<T, DomainError> {
    Err(DomainError::Invalid(format!("Validation failed: {m}")))
}

fn joined(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The category a report gets: the one asked for, else `violation` when it names rules.
fn category(asked: Option<&str>, rules: &[i64]) -> Result<String, DomainError> {
    match asked.filter(|c| !c.is_empty()) {
        Some(c) if CATEGORIES.contains(&c) => Ok(c.to_string()),
        Some(_) => invalid("Category is not included in the list"),
        None if !rules.is_empty() => Ok("violation".into()),
        None => Ok("other".into()),
    }
}

fn check_rules(node: &Node, rules: &[i64]) -> Result<(), DomainError> {
    let known = super::instance::rules(node);
    match rules
        .iter()
        .all(|r| known.iter().any(|(n, _)| *n as i64 == *r))
    {
        true => Ok(()),
        false => invalid("Rule ids are not rules of this node"),
    }
}

/// May `me` moderate? Admins and moderators.
pub fn require_moderator(me: &AccountRow) -> Result<(), DomainError> {
    match me.role.as_str() {
        "admin" | "moderator" => Ok(()),
        _ => Err(DomainError::Forbidden(
            "This action is not allowed: it needs the moderator or admin role".into(),
        )),
    }
}

/// `admin.report` notifications to the node's moderators (not the reporter).
async fn tell_moderators(
    node: &Node,
    report: &ReportRow,
) -> Result<Vec<NewNotification>, DomainError> {
    Ok(node
        .store
        .staff_ids()
        .await?
        .into_iter()
        .filter(|id| *id != report.account_id)
        .map(|account_id| NewNotification {
            id: crate::ids::next_id(),
            account_id,
            from_account_id: report.account_id,
            kind: "admin.report",
            status_id: None,
            report_id: Some(report.id),
        })
        .collect())
}

/// Files a report by `reporter`.
pub async fn file(
    node: &Node,
    reporter: &AccountRow,
    input: ReportInput,
) -> Result<ReportView, DomainError> {
    let store = &node.store;
    let target = accounts::visible(node, input.account_id).await?;
    if target.id == reporter.id {
        return invalid("You cannot report yourself");
    }
    if input.comment.chars().count() > MAX_COMMENT {
        return invalid(&format!(
            "Comment is too long (maximum is {MAX_COMMENT} characters)"
        ));
    }
    check_rules(node, &input.rule_ids)?;
    let category = category(input.category.as_deref(), &input.rule_ids)?;
    let mut status_uris = Vec::new();
    for id in &input.status_ids {
        let s = statuses::visible_status(node, Some(reporter), *id)
            .await
            .map_err(|_| {
                DomainError::Invalid(format!("Validation failed: status {id} cannot be reported"))
            })?;
        if s.account_id != target.id {
            return invalid("Statuses must be the reported account's");
        }
        status_uris.push(super::federation::outbound::status_uri(node, &s).await?);
    }
    let now = now_millis();
    let forward = input.forward && !target.is_local();
    let row = ReportRow {
        id: crate::ids::next_id(),
        account_id: reporter.id,
        target_account_id: target.id,
        comment: input.comment.trim().to_string(),
        category,
        status_ids: joined(&input.status_ids),
        rule_ids: joined(&input.rule_ids),
        forwarded: forward,
        uri: None,
        assigned_account_id: None,
        action_taken_by_account_id: None,
        action_taken_at: None,
        created_at: now,
        updated_at: now,
    };
    let deliveries = match forward {
        true => {
            let mut object = vec![super::federation::resolve::actor_id(node, &target)];
            object.extend(status_uris);
            let mut flag = Activity::new(
                ActivityKind::Flag,
                node.urls.join(&format!("/reports/{}", row.id)).to_string(),
                node.urls.node_actor().to_string(),
                Object::Ids(object),
            );
            flag.content = Some(row.comment.clone());
            super::federation::outbound::deliveries_as_node(node, &target, &flag)
        }
        false => vec![],
    };
    let notifications = tell_moderators(node, &row).await?;
    store
        .insert_report(&row, &notifications, &deliveries)
        .await?;
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    node.hub.notified(&notifications);
    tracing::info!(report = row.id, target = %target.username, forwarded = forward, "report filed");
    Ok(ReportView {
        row,
        target: accounts::views(node, &[target.id])
            .await?
            .pop()
            .ok_or(DomainError::NotFound("account"))?,
    })
}

/// A `Flag` from a peer: a report filed by its node actor against one of our accounts (and
/// some of its statuses). Objects naming nothing of ours are left out; none at all refuses it.
pub async fn receive_flag(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
) -> Result<(), DomainError> {
    let id = fika_federation::activities::id_of(activity)
        .ok_or_else(|| DomainError::Invalid("Flag without an id".into()))?
        .to_string();
    let objects = fika_federation::activities::ids(activity.get("object"));
    let mut target: Option<AccountRow> = None;
    let mut status_ids = Vec::new();
    for o in &objects {
        if let Some(a) = super::federation::resolve::local_account_by_url(node, o).await? {
            target.get_or_insert(a);
        } else if let Some(s) = super::federation::resolve::local_status_id(node, o) {
            if let Some(row) = node.store.status_by_id(s).await? {
                status_ids.push(row.id);
                if target.is_none() {
                    target = node.store.account_by_id(row.account_id).await?;
                }
            }
        }
    }
    let target = target
        .ok_or_else(|| DomainError::Invalid(format!("Flag {id} names no account of this node")))?;
    let comment: String = activity
        .get("content")
        .and_then(Value::as_str)
        .map(|c| {
            crate::convert::text::html_to_plain(c)
                .chars()
                .take(MAX_COMMENT)
                .collect()
        })
        .unwrap_or_default();
    let now = now_millis();
    let row = ReportRow {
        id: crate::ids::next_id(),
        account_id: actor.id,
        target_account_id: target.id,
        comment,
        category: "other".into(),
        status_ids: joined(&status_ids),
        rule_ids: String::new(),
        forwarded: true,
        uri: Some(id.clone()),
        assigned_account_id: None,
        action_taken_by_account_id: None,
        action_taken_at: None,
        created_at: now,
        updated_at: now,
    };
    let notifications = tell_moderators(node, &row).await?;
    if node.store.insert_report(&row, &notifications, &[]).await? {
        node.hub.notified(&notifications);
        tracing::info!(report = row.id, flag = %id, from = %actor.domain, "report received from a peer");
    }
    Ok(())
}

/// A user's view of one of its reports.
pub async fn own_report(node: &Node, id: i64) -> Result<Option<ReportView>, DomainError> {
    let Some(row) = node.store.report(id).await? else {
        return Ok(None);
    };
    let target = accounts::views(node, &[row.target_account_id]).await?.pop();
    Ok(target.map(|target| ReportView { row, target }))
}

/// Accounts as moderators see them, by id.
async fn admin_accounts_by_id(
    node: &Node,
    ids: &[i64],
) -> Result<HashMap<i64, AdminAccountView>, DomainError> {
    let views = accounts::views_by_id(node, ids).await?;
    let moderation = node.store.moderation_of(ids).await?;
    Ok(views
        .into_iter()
        .map(|(id, account)| {
            let moderation =
                moderation
                    .get(&id)
                    .copied()
                    .unwrap_or(crate::store::reports::ModerationRow {
                        account_id: id,
                        ..Default::default()
                    });
            (
                id,
                AdminAccountView {
                    account,
                    moderation,
                },
            )
        })
        .collect())
}

async fn admin_views(
    node: &Node,
    viewer: &AccountRow,
    rows: Vec<ReportRow>,
) -> Result<Vec<AdminReportView>, DomainError> {
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| {
            [
                Some(r.account_id),
                Some(r.target_account_id),
                r.assigned_account_id,
                r.action_taken_by_account_id,
            ]
        })
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let accounts = admin_accounts_by_id(node, &ids).await?;
    let rules = super::instance::rules(node);
    let mut out = Vec::new();
    for row in rows {
        let (Some(account), Some(target)) = (
            accounts.get(&row.account_id).cloned(),
            accounts.get(&row.target_account_id).cloned(),
        ) else {
            continue;
        };
        let wanted = row.rule_id_list();
        out.push(AdminReportView {
            statuses: statuses::views(node, Some(viewer), &row.status_id_list()).await?,
            assigned: row
                .assigned_account_id
                .and_then(|a| accounts.get(&a).cloned()),
            action_taken_by: row
                .action_taken_by_account_id
                .and_then(|a| accounts.get(&a).cloned()),
            rules: rules
                .iter()
                .filter(|(n, _)| wanted.contains(&(*n as i64)))
                .cloned()
                .collect(),
            account,
            target,
            row,
        });
    }
    Ok(out)
}

pub async fn admin_list(
    node: &Node,
    me: &AccountRow,
    q: &ReportQuery,
    page: &Page,
) -> Result<Vec<AdminReportView>, DomainError> {
    require_moderator(me)?;
    let rows = node.store.reports(q, page).await?;
    admin_views(node, me, rows).await
}

async fn held(node: &Node, id: i64) -> Result<ReportRow, DomainError> {
    node.store
        .report(id)
        .await?
        .ok_or(DomainError::NotFound("report"))
}

pub async fn admin_get(
    node: &Node,
    me: &AccountRow,
    id: i64,
) -> Result<AdminReportView, DomainError> {
    require_moderator(me)?;
    let row = held(node, id).await?;
    admin_views(node, me, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("report"))
}

/// What a moderator does to a report.
#[derive(Debug, Clone)]
pub enum ReportChange {
    AssignToSelf,
    Unassign,
    Resolve,
    Reopen,
    Update {
        category: Option<String>,
        rule_ids: Option<Vec<i64>>,
    },
}

fn audit_of<'a>(who: &'a str, action: &'a str, detail: &'a str) -> Audit<'a> {
    Audit {
        actor: who,
        action,
        domain: None,
        detail,
    }
}

/// The notification telling a local reporter its report was resolved.
fn resolved_notice(
    report: &ReportRow,
    reporter: &AccountRow,
    by: &AccountRow,
) -> Vec<NewNotification> {
    if !reporter.is_local() {
        return vec![];
    }
    vec![NewNotification {
        id: crate::ids::next_id(),
        account_id: report.account_id,
        from_account_id: by.id,
        kind: "report_resolved",
        status_id: None,
        report_id: Some(report.id),
    }]
}

pub async fn admin_change(
    node: &Node,
    me: &AccountRow,
    id: i64,
    change: ReportChange,
) -> Result<AdminReportView, DomainError> {
    require_moderator(me)?;
    let mut row = held(node, id).await?;
    let now = now_millis();
    let mut notifications = Vec::new();
    let action = match &change {
        ReportChange::AssignToSelf => {
            row.assigned_account_id = Some(me.id);
            "report.assign"
        }
        ReportChange::Unassign => {
            row.assigned_account_id = None;
            "report.unassign"
        }
        ReportChange::Resolve => {
            if row.action_taken_at.is_none() {
                row.action_taken_at = Some(now);
                row.action_taken_by_account_id = Some(me.id);
                if let Some(reporter) = node.store.account_by_id(row.account_id).await? {
                    notifications = resolved_notice(&row, &reporter, me);
                }
            }
            "report.resolve"
        }
        ReportChange::Reopen => {
            row.action_taken_at = None;
            row.action_taken_by_account_id = None;
            "report.reopen"
        }
        ReportChange::Update {
            category: c,
            rule_ids,
        } => {
            if let Some(rules) = rule_ids {
                check_rules(node, rules)?;
                row.rule_ids = joined(rules);
            }
            if c.is_some() {
                row.category = category(c.as_deref(), &row.rule_id_list())?;
            }
            "report.update"
        }
    };
    row.updated_at = now;
    let who = format!("api:{}", me.username);
    let detail = format!("report {}", row.id);
    node.store
        .update_report(&row, &audit_of(&who, action, &detail), &notifications)
        .await?;
    node.hub.notified(&notifications);
    admin_get(node, me, id).await
}

/// What a moderator does to an account (Mastodon's `action` types, and their undoing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    None,
    Sensitive,
    Disable,
    Silence,
    Suspend,
    Unsensitive,
    Enable,
    Unsilence,
    Unsuspend,
}

impl AccountAction {
    pub fn parse(s: &str) -> Option<AccountAction> {
        Some(match s {
            "none" => AccountAction::None,
            "sensitive" => AccountAction::Sensitive,
            "disable" => AccountAction::Disable,
            "silence" => AccountAction::Silence,
            "suspend" => AccountAction::Suspend,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            AccountAction::None => "none",
            AccountAction::Sensitive => "sensitive",
            AccountAction::Disable => "disable",
            AccountAction::Silence => "silence",
            AccountAction::Suspend => "suspend",
            AccountAction::Unsensitive => "unsensitive",
            AccountAction::Enable => "enable",
            AccountAction::Unsilence => "unsilence",
            AccountAction::Unsuspend => "unsuspend",
        }
    }

    /// The flags it sets (the rule, testable without a database).
    pub fn change(self) -> ModerationChange {
        let mut c = ModerationChange::default();
        match self {
            AccountAction::None => {}
            AccountAction::Sensitive => c.sensitized = Some(true),
            AccountAction::Unsensitive => c.sensitized = Some(false),
            AccountAction::Disable => c.disabled = Some(true),
            AccountAction::Enable => c.disabled = Some(false),
            AccountAction::Silence => c.silenced = Some(true),
            AccountAction::Unsilence => c.silenced = Some(false),
            AccountAction::Suspend => c.suspended = Some(true),
            AccountAction::Unsuspend => c.suspended = Some(false),
        }
        c
    }
}

/// Acts on an account, resolving `report_id` (one about that account) when given.
pub async fn act_on_account(
    node: &Node,
    me: &AccountRow,
    account_id: i64,
    action: AccountAction,
    report_id: Option<i64>,
    text: &str,
) -> Result<AdminAccountView, DomainError> {
    require_moderator(me)?;
    let target = node
        .store
        .account_by_id(account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    if target.id == me.id && action != AccountAction::None {
        return invalid("You cannot moderate yourself");
    }
    // A moderator may not act on an admin.
    if target.role == "admin" && me.role != "admin" && action != AccountAction::None {
        return Err(DomainError::Forbidden(
            "This action is not allowed: the account is an admin's".into(),
        ));
    }
    let mut report = match report_id {
        Some(r) => {
            let row = held(node, r).await?;
            if row.target_account_id != target.id {
                return invalid("The report is not about this account");
            }
            Some(row)
        }
        None => None,
    };
    let mut notifications = Vec::new();
    if let Some(r) = report.as_mut() {
        if r.action_taken_at.is_none() {
            r.action_taken_by_account_id = Some(me.id);
            if let Some(reporter) = node.store.account_by_id(r.account_id).await? {
                notifications = resolved_notice(r, &reporter, me);
            }
        }
    }
    let who = format!("api:{}", me.username);
    let action_name = format!("account.{}", action.name());
    let mut detail = match &target.domain {
        d if d.is_empty() => format!("@{}", target.username),
        d => format!("@{}@{d}", target.username),
    };
    if let Some(r) = &report {
        detail.push_str(&format!(" (report {})", r.id));
    }
    if !text.trim().is_empty() {
        detail.push_str(&format!(": {}", text.trim()));
    }
    node.store
        .moderate_account(
            target.id,
            &action.change(),
            report.as_ref().filter(|r| r.action_taken_at.is_none()),
            &audit_of(&who, &action_name, &detail),
            &notifications,
        )
        .await?;
    node.hub.notified(&notifications);
    tracing::info!(account = %detail, action = action.name(), by = %me.username, "moderation");
    admin_account(node, me, target.id).await
}

pub async fn admin_account(
    node: &Node,
    me: &AccountRow,
    id: i64,
) -> Result<AdminAccountView, DomainError> {
    require_moderator(me)?;
    admin_accounts_by_id(node, &[id])
        .await?
        .remove(&id)
        .ok_or(DomainError::NotFound("account"))
}

pub async fn admin_account_list(
    node: &Node,
    me: &AccountRow,
    q: &AccountQuery,
    page: &Page,
) -> Result<Vec<AdminAccountView>, DomainError> {
    require_moderator(me)?;
    let ids = node.store.admin_accounts(q, page).await?;
    let mut by_id = admin_accounts_by_id(node, &ids).await?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_the_rules_named() {
        assert_eq!(category(None, &[]).unwrap(), "other");
        assert_eq!(category(None, &[1]).unwrap(), "violation");
        assert_eq!(category(Some("spam"), &[1]).unwrap(), "spam");
        assert!(category(Some("rude"), &[]).is_err());
    }

    #[test]
    fn actions_set_their_flags_only() {
        assert_eq!(AccountAction::None.change(), ModerationChange::default());
        assert_eq!(AccountAction::Suspend.change().suspended, Some(true));
        assert_eq!(AccountAction::Unsilence.change().silenced, Some(false));
        assert_eq!(AccountAction::Disable.change().suspended, None);
        assert!(AccountAction::parse("unsuspend").is_none());
        assert_eq!(
            AccountAction::parse("silence"),
            Some(AccountAction::Silence)
        );
    }
}
