//! Groups hosted on this node (fika's API, beside Mastodon's): create and manage them, and
//! the moderators' work on join requests, members and posts. Members join, post and leave
//! through the ordinary client API (follow the group account, mention it, unfollow it).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, parse_id, Auth, Body, Query};
use super::PageParams;
use crate::convert::mastodon;
use crate::domain::groups::{self, Acting, GroupInput};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct GroupForm {
    name: Option<String>,
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    private: Option<bool>,
    posting: Option<String>,
}

impl GroupForm {
    fn input(self) -> GroupInput {
        GroupInput {
            name: self.name.unwrap_or_default(),
            display_name: self.display_name,
            note: self.note,
            private: self.private,
            posting: self.posting,
        }
    }
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("read:accounts")?;
    let all = groups::list(&state.node).await?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|g| mastodon::group(g, &state.node.urls))
            .collect(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<GroupForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    if form.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::unprocessable(
            "Validation failed: Name can't be blank",
        ));
    }
    let view = groups::create(&state.node, &Acting::api(me), me, form.input()).await?;
    Ok(Json(mastodon::group(&view, &state.node.urls)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.user("read:accounts")?;
    let view = groups::view(&state.node, parse_id(&id)?).await?;
    Ok(Json(mastodon::group(&view, &state.node.urls)))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<GroupForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    let view = groups::update(&state.node, &Acting::api(me), parse_id(&id)?, form.input()).await?;
    Ok(Json(mastodon::group(&view, &state.node.urls)))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    groups::delete(&state.node, &Acting::api(me), parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
pub struct ModeratorForm {
    role: Option<String>,
}

pub async fn add_moderator(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
    Body(form): Body<ModeratorForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    let role = form.role.unwrap_or_else(|| "moderator".into());
    let view = groups::set_moderator(
        &state.node,
        &Acting::api(me),
        parse_id(&id)?,
        parse_id(&account)?,
        Some(&role),
    )
    .await?;
    Ok(Json(mastodon::group(&view, &state.node.urls)))
}

pub async fn remove_moderator(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    let view = groups::set_moderator(
        &state.node,
        &Acting::api(me),
        parse_id(&id)?,
        parse_id(&account)?,
        None,
    )
    .await?;
    Ok(Json(mastodon::group(&view, &state.node.urls)))
}

pub async fn requests(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:follows")?;
    let id = parse_id(&id)?;
    let page = q.page(40, 80)?;
    let list = groups::requests(&state.node, &Acting::api(me), id, &page).await?;
    let url = state
        .node
        .urls
        .api(&format!("/api/v1/groups/{id}/requests"));
    Ok(super::account_page(&state.node.urls, &list, &url, &uri))
}

async fn answer(
    state: &AppState,
    auth: &Auth,
    id: &str,
    account: &str,
    approve: bool,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    groups::answer_request(
        &state.node,
        &Acting::api(me),
        parse_id(id)?,
        parse_id(account)?,
        approve,
    )
    .await?;
    Ok(Json(json!({})))
}

pub async fn authorize(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    answer(&state, &auth, &id, &account, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    answer(&state, &auth, &id, &account, false).await
}

pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.user("read:accounts")?;
    let id = parse_id(&id)?;
    let page = q.page(40, 80)?;
    let list = groups::members(&state.node, id, &page).await?;
    let url = state.node.urls.api(&format!("/api/v1/groups/{id}/members"));
    Ok(super::account_page(&state.node.urls, &list, &url, &uri))
}

#[derive(Deserialize, Default)]
pub struct RemoveForm {
    #[serde(default, deserialize_with = "flex_bool")]
    ban: Option<bool>,
    reason: Option<String>,
}

pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
    Body(form): Body<RemoveForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    let reason = form.reason.unwrap_or_default();
    let ban = form.ban.unwrap_or(false).then_some(reason.as_str());
    groups::remove_member(
        &state.node,
        &Acting::api(me),
        parse_id(&id)?,
        parse_id(&account)?,
        ban,
    )
    .await?;
    Ok(Json(json!({})))
}

pub async fn remove_post(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, status)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    groups::remove_post(
        &state.node,
        &Acting::api(me),
        parse_id(&id)?,
        parse_id(&status)?,
    )
    .await?;
    Ok(Json(json!({})))
}
