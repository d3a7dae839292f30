//! Blocks, mutes and user-level domain blocks: `/api/v1/accounts/:id/{block,unblock,mute,
//! unmute}`, `/api/v1/blocks`, `/api/v1/mutes`, `/api/v1/domain_blocks`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_id, parse_id, Auth, Body, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::blocks;
use crate::http::{ApiError, AppState};

pub async fn block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:blocks")?;
    let view = blocks::block(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::relationship(&view)))
}

pub async fn unblock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:blocks")?;
    let view = blocks::unblock(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::relationship(&view)))
}

#[derive(Deserialize, Default)]
pub struct MuteForm {
    #[serde(default, deserialize_with = "flex_bool")]
    notifications: Option<bool>,
    /// Seconds; sent as a number or a string.
    #[serde(default, deserialize_with = "flex_id")]
    duration: Option<String>,
}

pub async fn mute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<MuteForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:mutes")?;
    let duration = match form.duration.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(d.parse::<i64>().map_err(|_| {
            ApiError::unprocessable("Validation failed: duration must be a number of seconds")
        })?),
    };
    let view = blocks::mute(
        &state.node,
        me,
        parse_id(&id)?,
        form.notifications.unwrap_or(true),
        duration,
    )
    .await?;
    Ok(Json(mastodon::relationship(&view)))
}

pub async fn unmute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:mutes")?;
    let view = blocks::unmute(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::relationship(&view)))
}

/// `GET /api/v1/blocks`: the accounts the user blocks, newest first.
pub async fn list_blocks(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:blocks")?;
    let page = q.page(40, 80)?;
    let list = blocks::blocks(&state.node, me, &page).await?;
    let url = state.node.urls.api("/api/v1/blocks");
    Ok(super::account_page(&state.node.urls, &list, &url, &uri))
}

/// `GET /api/v1/mutes`: the accounts the user mutes, each with `mute_expires_at`.
pub async fn list_mutes(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:mutes")?;
    let page = q.page(40, 80)?;
    let (list, expiries) = blocks::mutes(&state.node, me, &page).await?;
    let urls = &state.node.urls;
    let items = list
        .accounts
        .iter()
        .zip(expiries)
        .map(|(a, expires)| {
            let mut v = mastodon::account(&a.row, &a.counts, urls);
            v["mute_expires_at"] = expires.map(crate::convert::rfc3339_millis).into();
            v
        })
        .collect();
    let url = urls.api("/api/v1/mutes");
    Ok(paginated(items, list.keys, &url, &query_pairs(&uri)))
}

/// `GET /api/v1/domain_blocks`: the nodes the user blocks, as names.
pub async fn list_domain_blocks(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:blocks")?;
    let page = q.page(100, 200)?;
    let rows = blocks::domain_blocks(&state.node, me, &page).await?;
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.0, b.0));
    let items = rows.into_iter().map(|(_, d)| json!(d)).collect();
    let url = state.node.urls.api("/api/v1/domain_blocks");
    Ok(paginated(items, keys, &url, &query_pairs(&uri)))
}

#[derive(Deserialize, Default)]
pub struct DomainForm {
    #[serde(default)]
    domain: Option<String>,
}

fn domain_of(form: DomainForm) -> Result<String, ApiError> {
    form.domain
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: domain is missing"))
}

/// `POST /api/v1/domain_blocks` (`domain`, in the body or the query string, as apps send it).
pub async fn block_domain(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DomainForm>,
    Body(form): Body<DomainForm>,
) -> Result<Response, ApiError> {
    let me = auth.user("write:blocks")?;
    let domain = domain_of(if form.domain.is_some() { form } else { q })?;
    blocks::block_domain(&state.node, me, &domain).await?;
    Ok((StatusCode::OK, Json(json!({}))).into_response())
}

/// `DELETE /api/v1/domain_blocks`.
pub async fn unblock_domain(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DomainForm>,
    Body(form): Body<DomainForm>,
) -> Result<Response, ApiError> {
    let me = auth.user("write:blocks")?;
    let domain = domain_of(if form.domain.is_some() { form } else { q })?;
    blocks::unblock_domain(&state.node, me, &domain).await?;
    Ok((StatusCode::OK, Json(json!({}))).into_response())
}
