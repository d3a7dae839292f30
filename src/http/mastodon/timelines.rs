//! Timelines: home (the materialised feed), public (local / remote), hashtag.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use super::extract::{flex_bool, Auth, Query};
use super::{paginated, query_pairs, PageParams};
use crate::domain::audience::{self, Origin};
use crate::domain::statuses;
use crate::http::{ApiError, AppState};
use crate::store::statuses::StatusFilter;

pub async fn home(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let page = q.page(20, 40)?;
    let ids = state.node.store.home_feed(me.id, &page).await?;
    let keys = ids.first().zip(ids.last()).map(|(a, b)| (*a, *b));
    let items = statuses::render(&state.node, Some(me), &ids).await?;
    Ok(paginated(
        items,
        keys,
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
    let local = match (q.local.unwrap_or(false), q.remote.unwrap_or(false)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let origin = local.map(|l| if l { Origin::Local } else { Origin::Remote });
    let visibilities = match tag {
        Some(_) => audience::on_hashtag_timeline(origin),
        None => audience::on_public_timeline(origin),
    };
    let filter = StatusFilter {
        visibilities,
        local,
        tag,
        exclude_reblogs: true,
        only_media: q.only_media.unwrap_or(false),
        ..Default::default()
    };
    let ids = state.node.store.list_statuses(&filter, &page).await?;
    let keys = ids.first().zip(ids.last()).map(|(a, b)| (*a, *b));
    let items = statuses::render(&state.node, Some(me), &ids).await?;
    Ok(paginated(
        items,
        keys,
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
    let rows = state
        .node
        .store
        .marked_statuses(me.id, bookmarks, &page)
        .await?;
    // Cursors are the bookmark's / favourite's own id, as on Mastodon.
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.0, b.0));
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let items = statuses::render(&state.node, Some(me), &ids).await?;
    let path = if bookmarks {
        "/api/v1/bookmarks"
    } else {
        "/api/v1/favourites"
    };
    Ok(paginated(
        items,
        keys,
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
