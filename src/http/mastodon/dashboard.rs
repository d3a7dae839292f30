//! The Mastodon admin dashboard API (`/api/v1/admin/measures`, `dimensions`, `retention`,
//! `trends/*`): for admins with an `admin:read` token.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::admin;
use super::extract::{Auth, Pairs, Query};
use crate::convert::mastodon;
use crate::domain::dashboard;
use crate::http::{ApiError, AppState};

/// `keys[]`, and each parameterised key's `key[id]` or `key[domain]`.
fn keys_and_params(p: &Pairs) -> (Vec<String>, BTreeMap<String, String>) {
    let mut keys = Vec::new();
    let mut params = BTreeMap::new();
    for (name, value) in &p.0 {
        if name == "keys[]" || name == "keys" {
            if !keys.contains(value) {
                keys.push(value.clone());
            }
        } else if let Some(key) = name
            .strip_suffix("[id]")
            .or_else(|| name.strip_suffix("[domain]"))
        {
            params.insert(key.to_string(), value.clone());
        }
    }
    (keys, params)
}

fn range(p: &Pairs) -> Result<dashboard::Days, ApiError> {
    Ok(dashboard::days(p.get("start_at"), p.get("end_at"))?)
}

/// `POST /api/v1/admin/measures`.
pub async fn measures(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read")?;
    let (keys, params) = keys_and_params(&p);
    let found = dashboard::measures(&state.node, &keys, range(&p)?, &params).await?;
    Ok(Json(found.iter().map(mastodon::admin_measure).collect()))
}

/// `POST /api/v1/admin/dimensions`.
pub async fn dimensions(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read")?;
    let (keys, params) = keys_and_params(&p);
    let limit = match p.get("limit") {
        None | Some("") => 10,
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::unprocessable("Validation failed: limit must be a number"))?,
    };
    let found = dashboard::dimensions(&state.node, &keys, range(&p)?, limit, &params).await?;
    Ok(Json(found.iter().map(mastodon::admin_dimension).collect()))
}

/// `POST /api/v1/admin/retention`.
pub async fn retention(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read")?;
    let frequency = p.get("frequency").unwrap_or("day");
    let found = dashboard::retention(&state.node, range(&p)?, frequency).await?;
    Ok(Json(found.iter().map(mastodon::admin_cohort).collect()))
}

#[derive(Deserialize, Default)]
pub struct TrendsQuery {
    limit: Option<i64>,
}

/// `GET /api/v1/admin/trends/tags`.
pub async fn trending_tags(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<TrendsQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:read")?;
    let tags = dashboard::trending_tags(&state.node, me, q.limit.unwrap_or(10)).await?;
    let urls = &state.node.urls;
    Ok(Json(
        tags.iter().map(|t| mastodon::admin_tag(t, urls)).collect(),
    ))
}

/// `GET /api/v1/admin/trends/statuses`.
pub async fn trending_statuses(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<TrendsQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:read")?;
    let views = dashboard::trending_statuses(&state.node, me, q.limit.unwrap_or(20)).await?;
    Ok(Json(json!(mastodon::statuses(&views, &state.node.urls))))
}

/// `GET /api/v1/admin/trends/links`: fika makes no link previews, so no links trend.
pub async fn trending_links(auth: Auth) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read")?;
    Ok(Json(json!([])))
}

#[derive(Deserialize, Default)]
pub struct InsightsQuery {
    week: Option<String>,
}

/// `GET /api/v1/admin/insights` (fika's own): the insights page's figures as JSON.
pub async fn insights(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<InsightsQuery>,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read")?;
    let view = crate::domain::insights::overview(&state.node, q.week.as_deref()).await?;
    Ok(Json(mastodon::insights(&view)))
}
