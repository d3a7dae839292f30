//! Statuses: post, read, edit, delete, and the actions on them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{flex_bool, flex_id, flex_ids, parse_id, strict_bool, Auth, Body, Query};
use super::PageParams;
use crate::convert::mastodon;
use crate::domain::audience::{self, Scope};
use crate::domain::statuses::{self, PostInput};
use crate::domain::{pins, scheduled};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct StatusForm {
    #[serde(default)]
    status: Option<String>,
    #[serde(
        default,
        rename = "media_ids[]",
        alias = "media_ids",
        deserialize_with = "flex_ids"
    )]
    media_ids: Vec<String>,
    #[serde(default, deserialize_with = "flex_id")]
    in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    sensitive: Option<bool>,
    spoiler_text: Option<String>,
    visibility: Option<String>,
    /// Department-only: GoToSocial's flag (Akkoma and Pleroma apps send `visibility: "local"`).
    #[serde(default, deserialize_with = "strict_bool")]
    local_only: Option<bool>,
    language: Option<String>,
    scheduled_at: Option<String>,
    #[serde(rename = "poll[options][]")]
    poll_options: Option<Value>,
    poll: Option<Value>,
}

fn input(form: StatusForm, headers: &HeaderMap) -> Result<PostInput, ApiError> {
    if form.poll.is_some() || form.poll_options.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: Polls are not supported on this node",
        ));
    }
    let (visibility, locality) = audience::requested(
        form.visibility.as_deref().filter(|v| !v.is_empty()),
        form.local_only,
    )
    .map_err(|m| ApiError::unprocessable(format!("Validation failed: {m}")))?;
    let media_ids = form
        .media_ids
        .iter()
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ApiError::unprocessable(format!("Validation failed: media id {s:?} is invalid"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let in_reply_to_id = form.in_reply_to_id.map(|s| parse_id(&s)).transpose()?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect::<String>())
        .filter(|s| !s.is_empty());
    Ok(PostInput {
        text: form.status.unwrap_or_default(),
        spoiler_text: form.spoiler_text.unwrap_or_default(),
        sensitive: form.sensitive,
        visibility,
        locality,
        language: form.language.filter(|l| !l.is_empty()),
        in_reply_to_id,
        media_ids,
        idempotency_key,
    })
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Body(form): Body<StatusForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let at = form.scheduled_at.clone().filter(|s| !s.trim().is_empty());
    let input = input(form, &headers)?;
    // With `scheduled_at`, a ScheduledStatus instead of a Status, as on Mastodon.
    if let Some(at) = at {
        let view = scheduled::schedule(&state.node, me, input, &at, Some(auth.app_info())).await?;
        return Ok(Json(mastodon::scheduled_status(&view, &state.node.urls)));
    }
    let id = statuses::post(&state.node, me, input, Some(auth.app_info())).await?;
    Ok(Json(mastodon::status(
        &statuses::view(&state.node, me, id).await?,
        &state.node.urls,
    )))
}

pub async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(form): Body<StatusForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let id = parse_id(&id)?;
    let mut input = input(form, &headers)?;
    input.idempotency_key = None;
    statuses::edit(&state.node, me, id, input).await?;
    Ok(Json(mastodon::status(
        &statuses::view(&state.node, me, id).await?,
        &state.node.urls,
    )))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    Ok(Json(mastodon::status(
        &statuses::view(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

#[derive(Deserialize)]
pub struct ManyQuery {
    #[serde(default, rename = "id[]", alias = "id", deserialize_with = "flex_ids")]
    id: Vec<String>,
}

pub async fn get_many(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ManyQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let ids: Vec<i64> =
        q.id.iter()
            .filter_map(|s| s.parse().ok())
            .take(40)
            .collect();
    let views = statuses::views(&state.node, Some(me), &ids).await?;
    Ok(Json(Value::Array(mastodon::statuses(
        &views,
        &state.node.urls,
    ))))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    Ok(Json(mastodon::status(
        &statuses::delete(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

pub async fn context(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    Ok(Json(mastodon::context(
        &statuses::context(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let views = statuses::history(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(mastodon::edits(
        &views,
        &state.node.urls,
    ))))
}

pub async fn source(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    Ok(Json(mastodon::source(
        &statuses::source(&state.node, me, parse_id(&id)?).await?,
    )))
}

pub async fn favourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:favourites")?;
    Ok(Json(mastodon::status(
        &statuses::favourite(&state.node, me, parse_id(&id)?, true).await?,
        &state.node.urls,
    )))
}

pub async fn unfavourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:favourites")?;
    Ok(Json(mastodon::status(
        &statuses::favourite(&state.node, me, parse_id(&id)?, false).await?,
        &state.node.urls,
    )))
}

pub async fn bookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:bookmarks")?;
    Ok(Json(mastodon::status(
        &statuses::bookmark(&state.node, me, parse_id(&id)?, true).await?,
        &state.node.urls,
    )))
}

pub async fn unbookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:bookmarks")?;
    Ok(Json(mastodon::status(
        &statuses::bookmark(&state.node, me, parse_id(&id)?, false).await?,
        &state.node.urls,
    )))
}

/// `POST /api/v1/statuses/:id/pin`: pin one's own status to one's profile.
pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    Ok(Json(mastodon::status(
        &pins::pin(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    Ok(Json(mastodon::status(
        &pins::unpin(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

#[derive(Deserialize, Default)]
pub struct ReblogForm {
    visibility: Option<String>,
}

pub async fn reblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<ReblogForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let visibility = form
        .visibility
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<Scope>())
        .transpose()
        .map_err(|m| ApiError::unprocessable(format!("Validation failed: {m}")))?;
    Ok(Json(mastodon::status(
        &statuses::reblog(&state.node, me, parse_id(&id)?, visibility).await?,
        &state.node.urls,
    )))
}

pub async fn unreblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    Ok(Json(mastodon::status(
        &statuses::unreblog(&state.node, me, parse_id(&id)?).await?,
        &state.node.urls,
    )))
}

async fn actors(
    state: &AppState,
    auth: &Auth,
    id: &str,
    reblogs: bool,
    uri: &Uri,
    q: &PageParams,
) -> Result<Response, ApiError> {
    let me = auth.user("read:accounts")?;
    let id = parse_id(id)?;
    let page = q.page(40, 80)?;
    let list = statuses::actors(&state.node, me, id, reblogs, &page).await?;
    let path = if reblogs {
        "reblogged_by"
    } else {
        "favourited_by"
    };
    let url = state
        .node
        .urls
        .api(&format!("/api/v1/statuses/{id}/{path}"));
    Ok(super::account_page(&state.node.urls, &list, &url, uri))
}

pub async fn favourited_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    actors(&state, &auth, &id, false, &uri, &q).await
}

pub async fn reblogged_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    actors(&state, &auth, &id, true, &uri, &q).await
}
