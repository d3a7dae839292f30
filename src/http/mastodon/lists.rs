//! Lists: CRUD, members, and the lists holding an account (`/api/v1/lists`).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_ids, parse_id, Auth, Body, Query};
use super::PageParams;
use crate::convert::mastodon;
use crate::domain::lists::{self, ListChange};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct ListForm {
    #[serde(default, deserialize_with = "given")]
    title: Option<String>,
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    exclusive: Option<bool>,
}

/// A value that is there, even empty (a form's `title=` is a blank title, not no title).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

impl From<ListForm> for ListChange {
    fn from(f: ListForm) -> ListChange {
        ListChange {
            title: f.title,
            replies_policy: f.replies_policy,
            exclusive: f.exclusive,
        }
    }
}

pub async fn all(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:lists")?;
    let found = lists::all(&state.node, me).await?;
    Ok(Json(Value::Array(mastodon::lists(&found))))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:lists")?;
    let list = lists::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::list(&list)))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<ListForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:lists")?;
    let list = lists::create(&state.node, me, form.into()).await?;
    Ok(Json(mastodon::list(&list)))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<ListForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:lists")?;
    let list = lists::update(&state.node, me, parse_id(&id)?, form.into()).await?;
    Ok(Json(mastodon::list(&list)))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:lists")?;
    lists::delete(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

/// `account_ids[]`, as form values, a JSON array or query parameters.
#[derive(Deserialize, Default)]
pub struct MembersForm {
    #[serde(
        default,
        rename = "account_ids[]",
        alias = "account_ids",
        deserialize_with = "flex_ids"
    )]
    account_ids: Vec<String>,
}

fn member_ids(query: MembersForm, body: MembersForm) -> Result<Vec<i64>, ApiError> {
    query
        .account_ids
        .iter()
        .chain(body.account_ids.iter())
        .map(|s| parse_id(s))
        .collect()
}

pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:lists")?;
    let id = parse_id(&id)?;
    // `limit=0` is every member on one page, as on Mastodon.
    let page = match q.limit.as_deref() {
        Some("0") => None,
        _ => Some(q.page(40, 80)?),
    };
    let found = lists::members(&state.node, me, id, page.as_ref()).await?;
    let url = state.node.urls.api(&format!("/api/v1/lists/{id}/accounts"));
    Ok(super::account_page(&state.node.urls, &found, &url, &uri))
}

pub async fn add_members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<MembersForm>,
    Body(body): Body<MembersForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:lists")?;
    let id = parse_id(&id)?;
    lists::add(&state.node, me, id, &member_ids(q, body)?).await?;
    Ok(Json(json!({})))
}

pub async fn remove_members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<MembersForm>,
    Body(body): Body<MembersForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:lists")?;
    let id = parse_id(&id)?;
    lists::remove(&state.node, me, id, &member_ids(q, body)?).await?;
    Ok(Json(json!({})))
}

/// The viewer's lists that hold the account (`/api/v1/accounts/:id/lists`).
pub async fn of_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:lists")?;
    let found = lists::containing(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(mastodon::lists(&found))))
}
