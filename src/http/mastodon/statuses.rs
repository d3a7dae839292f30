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
use crate::convert::views::PollParams;
use crate::domain::audience::{self, Scope};
use crate::domain::statuses::{self, PostInput};
use crate::domain::{pins, polls, scheduled};
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
    /// A poll as a form spells it.
    #[serde(
        default,
        rename = "poll[options][]",
        alias = "poll[options]",
        deserialize_with = "flex_ids"
    )]
    poll_options: Vec<String>,
    #[serde(default, rename = "poll[expires_in]", deserialize_with = "flex_id")]
    poll_expires_in: Option<String>,
    #[serde(default, rename = "poll[multiple]", deserialize_with = "flex_bool")]
    poll_multiple: Option<bool>,
    #[serde(default, rename = "poll[hide_totals]", deserialize_with = "flex_bool")]
    poll_hide_totals: Option<bool>,
    /// A poll as JSON sends it.
    poll: Option<PollForm>,
}

#[derive(Deserialize, Default)]
struct PollForm {
    #[serde(default, deserialize_with = "flex_ids")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "flex_id")]
    expires_in: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    multiple: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    hide_totals: Option<bool>,
}

/// The poll asked for, from JSON or from form fields.
fn poll_params(form: &mut StatusForm) -> Result<Option<PollParams>, ApiError> {
    let poll = match form.poll.take() {
        Some(p) => p,
        None if form.poll_options.is_empty() && form.poll_expires_in.is_none() => return Ok(None),
        None => PollForm {
            options: std::mem::take(&mut form.poll_options),
            expires_in: form.poll_expires_in.take(),
            multiple: form.poll_multiple,
            hide_totals: form.poll_hide_totals,
        },
    };
    let expires_in = poll
        .expires_in
        .as_deref()
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Poll expires_in is missing"))?
        .parse::<i64>()
        .map_err(|_| {
            ApiError::unprocessable("Validation failed: Poll expires_in is not a number of seconds")
        })?;
    Ok(Some(PollParams {
        options: poll.options,
        expires_in,
        multiple: poll.multiple.unwrap_or(false),
        hide_totals: poll.hide_totals.unwrap_or(false),
    }))
}

fn input(mut form: StatusForm, headers: &HeaderMap) -> Result<PostInput, ApiError> {
    let poll = poll_params(&mut form)?;
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
        poll,
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
/// `POST /api/v1/statuses/:id/mute`: no more notifications about this conversation.
pub async fn mute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:mutes")?;
    let view = crate::domain::thread_mutes::mute(&state.node, me, parse_id(&id)?, true).await?;
    Ok(Json(mastodon::status(&view, &state.node.urls)))
}

pub async fn unmute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:mutes")?;
    let view = crate::domain::thread_mutes::mute(&state.node, me, parse_id(&id)?, false).await?;
    Ok(Json(mastodon::status(&view, &state.node.urls)))
}

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

#[derive(Deserialize, Default)]
pub struct VoteForm {
    #[serde(
        default,
        rename = "choices[]",
        alias = "choices",
        deserialize_with = "flex_ids"
    )]
    choices: Vec<String>,
}

pub async fn poll(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let view = polls::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::poll(&view)))
}

pub async fn vote(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<VoteForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let choices = form
        .choices
        .iter()
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::unprocessable(format!("Validation failed: choice {c:?} is not a number"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let view = polls::vote(&state.node, me, parse_id(&id)?, &choices).await?;
    Ok(Json(mastodon::poll(&view)))
}
