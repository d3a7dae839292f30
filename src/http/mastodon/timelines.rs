//! Timelines: home (the materialised feed), public (local / remote), hashtag, list.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use super::extract::{flex_bool, Auth, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::timelines;
use crate::http::{ApiError, AppState};

pub async fn home(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let page = q.page(20, 40)?;
    let list = timelines::home(&state.node, me, &page).await?;
    Ok(paginated(
        mastodon::statuses(&list.statuses, &state.node.urls),
        list.keys,
        &state.node.urls.api("/api/v1/timelines/home"),
        &query_pairs(&uri),
    ))
}

#[derive(Deserialize, Default)]
pub struct PublicQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    only_media: Option<bool>,
}

async fn list(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: &PublicQuery,
    tag: Option<String>,
    path: &str,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let page = q.page.page(20, 40)?;
    let query = timelines::PublicQuery {
        local: q.local.unwrap_or(false),
        remote: q.remote.unwrap_or(false),
        only_media: q.only_media.unwrap_or(false),
        tag,
    };
    let list = timelines::public(&state.node, me, query, &page).await?;
    Ok(paginated(
        mastodon::statuses(&list.statuses, &state.node.urls),
        list.keys,
        &state.node.urls.api(path),
        &query_pairs(uri),
    ))
}

pub async fn public(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PublicQuery>,
) -> Result<Response, ApiError> {
    list(&state, &auth, &uri, &q, None, "/api/v1/timelines/public").await
}

pub async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(tag): Path<String>,
    uri: Uri,
    Query(q): Query<PublicQuery>,
) -> Result<Response, ApiError> {
    let tag = tag.trim_start_matches('#').to_string();
    let path = format!("/api/v1/timelines/tag/{tag}");
    list(&state, &auth, &uri, &q, Some(tag), &path).await
}

async fn marked(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: &PageParams,
    bookmarks: bool,
) -> Result<Response, ApiError> {
    let me = auth.user(if bookmarks {
        "read:bookmarks"
    } else {
        "read:favourites"
    })?;
    let page = q.page(20, 40)?;
    let list = timelines::marked(&state.node, me, bookmarks, &page).await?;
    let path = if bookmarks {
        "/api/v1/bookmarks"
    } else {
        "/api/v1/favourites"
    };
    Ok(paginated(
        mastodon::statuses(&list.statuses, &state.node.urls),
        list.keys,
        &state.node.urls.api(path),
        &query_pairs(uri),
    ))
}

pub async fn bookmarks(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    marked(&state, &auth, &uri, &q, true).await
}

pub async fn favourites(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    marked(&state, &auth, &uri, &q, false).await
}

pub async fn list_timeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:lists")?;
    let id = super::extract::parse_id(&id)?;
    let page = q.page(20, 40)?;
    let list = timelines::list(&state.node, me, id, &page).await?;
    Ok(paginated(
        mastodon::statuses(&list.statuses, &state.node.urls),
        list.keys,
        &state.node.urls.api(&format!("/api/v1/timelines/list/{id}")),
        &query_pairs(&uri),
    ))
}
