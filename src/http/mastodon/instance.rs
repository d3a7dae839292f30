//! What apps read about the node before and after logging in.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{Auth, Body, Query};
use crate::convert::mastodon;
use crate::domain::instance;
use crate::http::{ApiError, AppState};

/// Open to every caller (also in allowlist mode): apps read it before they can log in.
pub async fn v2(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = instance::describe(&state.node).await?;
    Ok(Json(mastodon::instance_v2(&view, &state.node.urls)))
}

pub async fn v1(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = instance::describe(&state.node).await?;
    Ok(Json(mastodon::instance_v1(&view, &state.node.urls)))
}

pub async fn custom_emojis() -> Json<Value> {
    Json(json!([]))
}

pub async fn empty_list() -> Json<Value> {
    Json(json!([]))
}

pub async fn preferences(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    Ok(Json(mastodon::preferences(
        me,
        state.node.config.statuses.default_local_only,
    )))
}

#[derive(Deserialize)]
pub struct MarkerQuery {
    #[serde(default, rename = "timeline[]", alias = "timeline")]
    timeline: Vec<String>,
}

pub async fn get_markers(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<MarkerQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let rows = instance::markers(&state.node, me, &q.timeline).await?;
    Ok(Json(mastodon::markers(&rows)))
}

/// `home[last_read_id]=…` as a form, or `{"home": {"last_read_id": …}}` as JSON.
#[derive(Deserialize, Default)]
pub struct MarkerForm {
    #[serde(default, rename = "home[last_read_id]")]
    home_flat: Option<String>,
    #[serde(default, rename = "notifications[last_read_id]")]
    notifications_flat: Option<String>,
    home: Option<MarkerValue>,
    notifications: Option<MarkerValue>,
}

#[derive(Deserialize, Default)]
pub struct MarkerValue {
    #[serde(default, deserialize_with = "super::extract::flex_id")]
    last_read_id: Option<String>,
}

pub async fn set_markers(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<MarkerForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let home = form.home_flat.or(form.home.and_then(|m| m.last_read_id));
    let notifications = form
        .notifications_flat
        .or(form.notifications.and_then(|m| m.last_read_id));
    let values: Vec<(&str, String)> = [("home", home), ("notifications", notifications)]
        .into_iter()
        .filter_map(|(timeline, value)| value.map(|v| (timeline, v)))
        .collect();
    // Answered with the markers as they now stand, under the write scope alone (as Mastodon
    // does): the write must not succeed and then be refused.
    let rows = instance::set_markers(&state.node, me, &values).await?;
    Ok(Json(mastodon::markers(&rows)))
}

/// The node's rules (`instance.rules`), open to every caller as on Mastodon.
pub async fn rules(State(state): State<AppState>) -> Json<Value> {
    Json(mastodon::instance_rules(&instance::rules(&state.node)))
}

pub async fn extended_description(State(state): State<AppState>) -> Json<Value> {
    let text = &state.node.config.instance.extended_description;
    Json(json!({"updated_at": null, "content": crate::convert::text::plain_to_html(text)}))
}

pub async fn privacy_policy(State(state): State<AppState>) -> Json<Value> {
    let text = &state.node.config.instance.privacy_policy;
    Json(json!({"updated_at": null, "content": crate::convert::text::plain_to_html(text)}))
}

/// The peers this node federates with: for signed-in staff only (an internal network does not
/// tell outsiders which nodes it has).
pub async fn peers(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("read")?;
    Ok(Json(json!(instance::peers(&state.node))))
}

pub async fn activity(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.user("read")?;
    let weeks = instance::activity(&state.node).await?;
    Ok(Json(Value::Array(
        weeks
            .iter()
            .map(|(week, statuses, logins, registrations)| {
                json!({
                    "week": week.to_string(),
                    "statuses": statuses.to_string(),
                    "logins": logins.to_string(),
                    "registrations": registrations.to_string(),
                })
            })
            .collect(),
    )))
}

/// Languages staff may tag their statuses with (ISO 639-1), as Mastodon lists them.
pub async fn languages() -> Json<Value> {
    Json(Value::Array(
        mastodon::LANGUAGES
            .iter()
            .map(|(code, name)| json!({"code": code, "name": name}))
            .collect(),
    ))
}
