//! AS2 documents served to peers. Every one of them asks the federation policy first.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use fika_federation::actor::{main_key_id, PublicKey};
use fika_federation::policy::{Access, ObjectKind, Requester};
use fika_federation::{accepts_activity_json, AS_CONTEXT, SECURITY_CONTEXT};
use serde_json::json;

use super::{ApiError, AppState};
use crate::convert::activitypub::local_person;

const AS2_CONTENT_TYPE: &str = "application/activity+json; charset=utf-8";

fn as2(value: serde_json::Value) -> Response {
    let mut response = Json(value).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(AS2_CONTENT_TYPE),
    );
    // The same URL answers browsers with a redirect: caches must keep the two apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// Who is asking. Incoming signatures are not verified yet, so every request is anonymous; the
/// policy in force (`ReadPolicy::Open`) serves anonymous readers.
fn requester(_headers: &HeaderMap) -> Requester {
    Requester::Anonymous
}

fn refuse(access: Access) -> ApiError {
    match access {
        Access::Unauthorized(why) => ApiError::new(StatusCode::UNAUTHORIZED, why),
        Access::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, why),
        Access::Full | Access::KeyOnly => ApiError::internal("refuse called with a grant"),
    }
}

pub async fn actor(
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wants_as2 = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_activity_json);
    let account = crate::domain::accounts::find_local(&state.node.store, &username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !wants_as2 {
        return Ok(
            Redirect::to(state.node.urls.profile(&account.username).as_str()).into_response(),
        );
    }
    if account.suspended {
        return Err(ApiError::new(StatusCode::GONE, "Account suspended"));
    }
    let allowed = |_domain: &str| false;
    match state
        .read_policy
        .decide(&requester(&headers), ObjectKind::Actor, allowed)
    {
        Access::Full => Ok(as2(local_person(&account, &state.node.urls))),
        Access::KeyOnly => {
            let id = state.node.urls.actor(&account.username);
            let key = PublicKey {
                id: main_key_id(&id),
                owner: id.clone(),
                public_key_pem: account.public_key_pem.clone(),
            };
            Ok(as2(json!({
                "@context": [AS_CONTEXT, SECURITY_CONTEXT],
                "id": id,
                "type": "Person",
                "publicKey": key,
            })))
        }
        refused => Err(refuse(refused)),
    }
}
