//! Reports (`POST /api/v1/reports`) and Mastodon's admin API for reports and accounts.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{flex_bool, flex_id, flex_ids, parse_id, Auth, Body, Query};
use super::PageParams;
use crate::convert::mastodon;
use crate::domain::reports::{self, AccountAction, ReportChange, ReportInput};
use crate::http::{ApiError, AppState};
use crate::store::reports::{AccountQuery, ReportQuery};

fn ids(raw: &[String], what: &str) -> Result<Vec<i64>, ApiError> {
    raw.iter()
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ApiError::unprocessable(format!("Validation failed: {what} {s:?} is not an id"))
            })
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default, deserialize_with = "flex_id")]
    account_id: Option<String>,
    #[serde(
        default,
        rename = "status_ids[]",
        alias = "status_ids",
        deserialize_with = "flex_ids"
    )]
    status_ids: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    forward: Option<bool>,
    #[serde(default)]
    category: Option<String>,
    #[serde(
        default,
        rename = "rule_ids[]",
        alias = "rule_ids",
        deserialize_with = "flex_ids"
    )]
    rule_ids: Vec<String>,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<ReportForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:reports")?;
    let account = form
        .account_id
        .as_deref()
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Account can't be blank"))?;
    let input = ReportInput {
        account_id: parse_id(account)?,
        status_ids: ids(&form.status_ids, "status")?,
        comment: form.comment.unwrap_or_default(),
        category: form.category,
        rule_ids: ids(&form.rule_ids, "rule")?,
        forward: form.forward.unwrap_or(false),
    };
    let view = reports::file(&state.node, me, input).await?;
    Ok(Json(mastodon::report(&view, &state.node.urls)))
}

#[derive(Deserialize, Default)]
pub struct AdminReportsQuery {
    #[serde(default, deserialize_with = "flex_bool")]
    resolved: Option<bool>,
    /// With `resolved`: every report.
    #[serde(default, deserialize_with = "flex_bool")]
    unresolved: Option<bool>,
    #[serde(default, deserialize_with = "flex_id")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "flex_id")]
    target_account_id: Option<String>,
}

pub async fn admin_list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AdminReportsQuery>,
    Query(p): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read:reports")?;
    let query = ReportQuery {
        resolved: match (q.resolved, q.unresolved) {
            (Some(true), Some(true)) => None,
            (Some(true), _) => Some(true),
            _ => Some(false),
        },
        account_id: q.account_id.as_deref().map(parse_id).transpose()?,
        target_account_id: q.target_account_id.as_deref().map(parse_id).transpose()?,
    };
    let views = reports::admin_list(&state.node, me, &query, &p.page(100, 200)?).await?;
    Ok(Json(Value::Array(
        views
            .iter()
            .map(|r| mastodon::admin_report(r, &state.node.urls))
            .collect(),
    )))
}

pub async fn admin_get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read:reports")?;
    let view = reports::admin_get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::admin_report(&view, &state.node.urls)))
}

async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    change: ReportChange,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write:reports")?;
    let view = reports::admin_change(&state.node, me, parse_id(id)?, change).await?;
    Ok(Json(mastodon::admin_report(&view, &state.node.urls)))
}

#[derive(Deserialize, Default)]
pub struct ReportUpdateForm {
    #[serde(default)]
    category: Option<String>,
    #[serde(
        default,
        rename = "rule_ids[]",
        alias = "rule_ids",
        deserialize_with = "flex_ids"
    )]
    rule_ids: Vec<String>,
}

pub async fn admin_update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<ReportUpdateForm>,
) -> Result<Json<Value>, ApiError> {
    let rule_ids = (!form.rule_ids.is_empty())
        .then(|| ids(&form.rule_ids, "rule"))
        .transpose()?;
    let update = ReportChange::Update {
        category: form.category,
        rule_ids,
    };
    change(&state, &auth, &id, update).await
}

pub async fn assign_to_self(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, ReportChange::AssignToSelf).await
}

pub async fn unassign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, ReportChange::Unassign).await
}

pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, ReportChange::Resolve).await
}

pub async fn reopen(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, ReportChange::Reopen).await
}

/// The v1 and v2 filters of `GET /api/v{1,2}/admin/accounts`.
#[derive(Deserialize, Default)]
pub struct AdminAccountsQuery {
    #[serde(default, deserialize_with = "flex_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    remote: Option<bool>,
    origin: Option<String>,
    status: Option<String>,
    permissions: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    staff: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    pending: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    sensitized: Option<bool>,
    by_domain: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
}

impl AdminAccountsQuery {
    fn query(self) -> Result<AccountQuery, ApiError> {
        let local = match (self.origin.as_deref(), self.local, self.remote) {
            (Some("local"), _, _) | (None, Some(true), _) => Some(true),
            (Some("remote"), _, _) | (None, _, Some(true)) => Some(false),
            (Some(other), _, _) if !other.is_empty() => {
                return Err(ApiError::unprocessable(format!(
                    "Validation failed: origin {other:?} is neither local nor remote"
                )))
            }
            _ => None,
        };
        let flags = [
            ("active", self.active),
            ("pending", self.pending),
            ("disabled", self.disabled),
            ("silenced", self.silenced),
            ("suspended", self.suspended),
            ("sensitized", self.sensitized),
        ];
        let status = self.status.filter(|s| !s.is_empty()).or_else(|| {
            flags
                .iter()
                .find(|(_, on)| *on == Some(true))
                .map(|(name, _)| name.to_string())
        });
        if let Some(s) = &status {
            let known = [
                "active",
                "pending",
                "disabled",
                "silenced",
                "suspended",
                "sensitized",
            ];
            if !known.contains(&s.as_str()) {
                return Err(ApiError::unprocessable(format!(
                    "Validation failed: status {s:?} is not one of {}",
                    known.join(", ")
                )));
            }
        }
        Ok(AccountQuery {
            local,
            status,
            staff: self.staff == Some(true) || self.permissions.as_deref() == Some("staff"),
            by_domain: self.by_domain.filter(|d| !d.is_empty()),
            username: self.username,
            display_name: self.display_name,
            email: self.email,
        })
    }
}

pub async fn admin_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AdminAccountsQuery>,
    Query(p): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read:accounts")?;
    let views =
        reports::admin_account_list(&state.node, me, &q.query()?, &p.page(100, 200)?).await?;
    Ok(Json(Value::Array(
        views
            .iter()
            .map(|a| mastodon::admin_account(a, &state.node.urls))
            .collect(),
    )))
}

pub async fn admin_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read:accounts")?;
    let view = reports::admin_account(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::admin_account(&view, &state.node.urls)))
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flex_id")]
    report_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

pub async fn action(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<ActionForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write:accounts")?;
    let kind = form.kind.as_deref().unwrap_or("none");
    let action = AccountAction::parse(kind).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "Validation failed: type {kind:?} is not one of none, sensitive, disable, silence, suspend"
        ))
    })?;
    let report = form.report_id.as_deref().map(parse_id).transpose()?;
    let text = form.text.unwrap_or_default();
    reports::act_on_account(&state.node, me, parse_id(&id)?, action, report, &text).await?;
    Ok(Json(serde_json::json!({})))
}

async fn undo(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: AccountAction,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write:accounts")?;
    let view = reports::act_on_account(&state.node, me, parse_id(id)?, action, None, "").await?;
    Ok(Json(mastodon::admin_account(&view, &state.node.urls)))
}

pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(&state, &auth, &id, AccountAction::Enable).await
}

pub async fn unsilence(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(&state, &auth, &id, AccountAction::Unsilence).await
}

pub async fn unsuspend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(&state, &auth, &id, AccountAction::Unsuspend).await
}

pub async fn unsensitive(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(&state, &auth, &id, AccountAction::Unsensitive).await
}

/// Sign-ups need no approval here (accounts come from the company directory or an admin), so
/// no account is ever pending.
pub async fn approve_or_reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write:accounts")?;
    reports::admin_account(&state.node, me, parse_id(&id)?).await?;
    Err(ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "This account is not pending approval: accounts here need none",
    ))
}
