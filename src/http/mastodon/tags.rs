//! Hashtags to follow and look up, and familiar followers.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{Auth, Body, Query};
use crate::convert::mastodon;
use crate::domain::tags;
use crate::http::{ApiError, AppState};

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read")?;
    let t = tags::get(&state.node, me, &name).await?;
    Ok(Json(mastodon::tag_view(&t, &state.node.urls)))
}

pub async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    let t = tags::follow(&state.node, me, &name).await?;
    Ok(Json(mastodon::tag_view(&t, &state.node.urls)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    let t = tags::unfollow(&state.node, me, &name).await?;
    Ok(Json(mastodon::tag_view(&t, &state.node.urls)))
}

pub async fn followed(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:follows")?;
    let all = tags::followed(&state.node, me).await?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|t| mastodon::tag_view(t, &state.node.urls))
            .collect(),
    )))
}

pub async fn familiar_followers(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<super::accounts::IdsQuery>,
    // Mastodon.py sends the ids of this GET as a JSON body, which Mastodon reads too.
    Body(body): Body<super::accounts::IdsQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:follows")?;
    let mut ids = q.parsed_ids()?;
    ids.extend(body.parsed_ids()?);
    let found = tags::familiar_followers(&state.node, me, &ids).await?;
    Ok(Json(Value::Array(
        found
            .iter()
            .map(|(id, accounts)| {
                json!({
                    "id": id.to_string(),
                    "accounts": accounts
                        .iter()
                        .map(|a| mastodon::account(&a.row, &a.counts, &state.node.urls))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )))
}
