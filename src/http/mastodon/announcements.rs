//! Announcements: the Mastodon API staff's apps read (list, dismiss, react), and fika's admin
//! API for the admins and communicators who publish them (`docs/announcements.md`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, parse_id, Auth, Body, Query};
use crate::convert::mastodon;
use crate::domain::announcements::{self, AnnouncementInput};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default, deserialize_with = "flex_bool")]
    with_dismissed: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    let all = announcements::list(&state.node, me, q.with_dismissed.unwrap_or(false)).await?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|a| mastodon::announcement(a, &state.node.urls))
            .collect(),
    )))
}

pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    announcements::dismiss(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn add_reaction(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:favourites")?;
    announcements::react(&state.node, me, parse_id(&id)?, &name, true).await?;
    Ok(Json(json!({})))
}

pub async fn remove_reaction(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:favourites")?;
    announcements::react(&state.node, me, parse_id(&id)?, &name, false).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
pub struct AnnouncementForm {
    text: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    all_day: Option<bool>,
    /// `node` or `org`.
    audience: Option<String>,
    language: Option<String>,
}

impl AnnouncementForm {
    fn input(self) -> AnnouncementInput {
        AnnouncementInput {
            text: self.text,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            all_day: self.all_day,
            audience: self.audience,
            language: self.language,
        }
    }
}

pub async fn admin_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read")?;
    let all = announcements::admin_list(&state.node, me).await?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|a| mastodon::admin_announcement(a, &state.node.urls))
            .collect(),
    )))
}

pub async fn admin_create(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<AnnouncementForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write")?;
    let v = announcements::publish(&state.node, me, form.input()).await?;
    Ok(Json(mastodon::admin_announcement(&v, &state.node.urls)))
}

pub async fn admin_get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:read")?;
    let v = announcements::admin_get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::admin_announcement(&v, &state.node.urls)))
}

pub async fn admin_update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<AnnouncementForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write")?;
    let v = announcements::edit(&state.node, me, parse_id(&id)?, form.input()).await?;
    Ok(Json(mastodon::admin_announcement(&v, &state.node.urls)))
}

pub async fn admin_withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write")?;
    announcements::withdraw(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn admin_remind(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("admin:write")?;
    let v = announcements::remind(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::admin_announcement(&v, &state.node.urls)))
}
