//! The notification policy (`/api/v2/notifications/policy`, and v1's filtered-or-not shape)
//! and its requests (`/api/v1/notifications/requests`: list, one, accept, dismiss, in bulk).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::extract::{parse_id, truthy, Auth, Pairs, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::notification_requests::{self as requests, PolicyChange};
use crate::http::{ApiError, AppState};

const FIELDS: [&str; 5] = [
    "for_not_following",
    "for_not_followers",
    "for_new_accounts",
    "for_private_mentions",
    "for_limited_accounts",
];

fn change_from(values: [Option<String>; 5]) -> PolicyChange {
    let [a, b, c, d, e] = values;
    PolicyChange {
        for_not_following: a,
        for_not_followers: b,
        for_new_accounts: c,
        for_private_mentions: d,
        for_limited_accounts: e,
    }
}

pub async fn policy(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let view = requests::policy(&state.node, me).await?;
    Ok(Json(mastodon::notification_policy(&view)))
}

pub async fn change_policy(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    let change = change_from(FIELDS.map(|f| p.get(f).map(str::to_string)));
    let view = requests::change_policy(&state.node, me, &change).await?;
    Ok(Json(mastodon::notification_policy(&view)))
}

pub async fn policy_v1(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let view = requests::policy(&state.node, me).await?;
    Ok(Json(mastodon::notification_policy_v1(&view)))
}

/// v1 sets filtered (`true`) or accepted (`false`) for the first four kinds of sender.
pub async fn change_policy_v1(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    let answer = |name: &str| -> Result<Option<String>, ApiError> {
        p.get(name)
            .map(|v| truthy(v).map(|f| if f { "filter" } else { "accept" }.to_string()))
            .transpose()
    };
    let change = change_from([
        answer("filter_not_following")?,
        answer("filter_not_followers")?,
        answer("filter_new_accounts")?,
        answer("filter_private_mentions")?,
        None,
    ]);
    let view = requests::change_policy(&state.node, me, &change).await?;
    Ok(Json(mastodon::notification_policy_v1(&view)))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:notifications")?;
    let page = q.page(40, 80)?;
    let (views, keys) = requests::requests(&state.node, me, &page).await?;
    let items = views
        .iter()
        .map(|r| mastodon::notification_request(r, &state.node.urls))
        .collect();
    let url = state.node.urls.api("/api/v1/notifications/requests");
    Ok(paginated(items, keys, &url, &query_pairs(&uri)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let view = requests::request(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::notification_request(
        &view,
        &state.node.urls,
    )))
}

pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    requests::settle_one(&state.node, me, parse_id(&id)?, true).await?;
    Ok(Json(json!({})))
}

pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    requests::settle_one(&state.node, me, parse_id(&id)?, false).await?;
    Ok(Json(json!({})))
}

/// `id[]`, or `id[][]` as Mastodon.py spells a list it was given as `id[]`.
fn ids(p: &Pairs) -> Result<Vec<i64>, ApiError> {
    p.0.iter()
        .filter(|(k, _)| ["id", "id[]", "id[][]"].contains(&k.as_str()))
        .map(|(_, v)| parse_id(v))
        .collect()
}

pub async fn accept_many(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    requests::settle(&state.node, me, &ids(&p)?, true).await?;
    Ok(Json(json!({})))
}

pub async fn dismiss_many(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    requests::settle(&state.node, me, &ids(&p)?, false).await?;
    Ok(Json(json!({})))
}

/// Accepting moves notifications at once, so they are always merged into the list.
pub async fn merged(auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("read:notifications")?;
    Ok(Json(json!({"merged": true})))
}
