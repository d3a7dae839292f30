//! `/api/v1/push/subscription`: the token's Web Push subscription (create, get, change, delete).
//! Parameters are read as pairs: apps send `subscription[keys][p256dh]` and
//! `data[alerts][mention]` as a form or as nested JSON.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::extract::{truthy, Auth, Pairs};
use crate::convert::mastodon;
use crate::domain::push::{self, SubscriptionInput, ALERTS};
use crate::http::{ApiError, AppState};

/// The types turned on in `data[alerts][…]`.
fn alerts(p: &Pairs) -> Result<Vec<String>, ApiError> {
    let mut on = Vec::new();
    for kind in ALERTS {
        if let Some(v) = p.get(&format!("data[alerts][{kind}]")) {
            if truthy(v)? {
                on.push(kind.to_string());
            }
        }
    }
    Ok(on)
}

/// `data[policy]` as the API documents it; Mastodon.py sends it as `policy`.
fn policy(p: &Pairs) -> Option<&str> {
    p.get("data[policy]").or_else(|| p.get("policy"))
}

fn required<'a>(p: &'a Pairs, name: &str) -> Result<&'a str, ApiError> {
    p.get(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable(format!("Validation failed: {name} is missing")))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    auth.require("push")?;
    let me = auth.user("push")?;
    let input = SubscriptionInput {
        endpoint: required(&p, "subscription[endpoint]")?.to_string(),
        p256dh: required(&p, "subscription[keys][p256dh]")?.to_string(),
        auth: required(&p, "subscription[keys][auth]")?.to_string(),
        alerts: alerts(&p)?,
        policy: policy(&p).map(str::to_string),
    };
    let row = push::subscribe(&state.node, &auth.token, &auth.bearer, me, input).await?;
    Ok(Json(mastodon::push_subscription(
        &row,
        push::server_key(&state.node),
    )))
}

pub async fn get(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("push")?;
    let row = push::current(&state.node, &auth.token).await?;
    Ok(Json(mastodon::push_subscription(
        &row,
        push::server_key(&state.node),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    auth.user("push")?;
    let row = push::change(&state.node, &auth.token, &alerts(&p)?, policy(&p)).await?;
    Ok(Json(mastodon::push_subscription(
        &row,
        push::server_key(&state.node),
    )))
}

pub async fn delete(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("push")?;
    push::unsubscribe(&state.node, &auth.token).await?;
    Ok(Json(json!({})))
}
