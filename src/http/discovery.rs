//! WebFinger, host-meta and NodeInfo: how apps and peers find accounts and learn what we are.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fika_federation::nodeinfo;
use fika_federation::webfinger::{self, Resource, ResourceError};
use serde::Deserialize;

use super::{ApiError, AppState};

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

fn with_content_type(mut response: Response, value: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
    response
}

pub async fn webfinger(
    State(state): State<AppState>,
    query: Result<Query<WebfingerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let raw = query
        .resource
        .ok_or_else(|| ApiError::bad_request("missing resource parameter"))?;
    let urls = &state.node.urls;
    let username = match webfinger::parse_resource(&raw, &urls.domain, &urls.base) {
        Ok(Resource::Account(name)) => name,
        Err(ResourceError::Malformed(why)) => return Err(ApiError::bad_request(why)),
        Err(ResourceError::NotHere) => return Err(ApiError::not_found()),
    };
    let account = crate::domain::accounts::find_local(&state.node.store, &username)
        .await?
        .filter(|a| !a.suspended)
        .ok_or_else(ApiError::not_found)?;
    let jrd = webfinger::account_jrd(
        &account.username,
        &urls.domain,
        &urls.actor(&account.username),
        &urls.profile(&account.username),
    );
    Ok(with_content_type(
        Json(jrd).into_response(),
        "application/jrd+json; charset=utf-8",
    ))
}

pub async fn host_meta(State(state): State<AppState>) -> Response {
    with_content_type(
        webfinger::host_meta_xrd(&state.node.urls.base).into_response(),
        "application/xrd+xml; charset=utf-8",
    )
}

pub async fn host_meta_json(State(state): State<AppState>) -> Response {
    with_content_type(
        Json(webfinger::host_meta_json(&state.node.urls.base)).into_response(),
        "application/jrd+json; charset=utf-8",
    )
}

pub async fn nodeinfo_links(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(nodeinfo::discovery(&state.node.urls.base))
}

pub async fn nodeinfo(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let (version, content_type) = match version.trim_end_matches(".json") {
        "2.0" => (
            "2.0",
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"",
        ),
        "2.1" => (
            "2.1",
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        ),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "Unknown NodeInfo version",
            ))
        }
    };
    let users = crate::domain::instance::local_users(&state.node).await?;
    let usage = nodeinfo::Usage {
        total_users: users,
        // Activity tracking arrives with sessions; until then every account counts as active.
        active_month: users,
        active_halfyear: users,
        local_posts: 0,
    };
    let doc = nodeinfo::document(
        version,
        env!("CARGO_PKG_VERSION"),
        &state.node.config.server.node_name,
        false,
        &usage,
    );
    Ok(with_content_type(Json(doc).into_response(), content_type))
}
