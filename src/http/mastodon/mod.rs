//! The Mastodon client API.

pub mod accounts;
pub mod admin;
pub mod announcements;
pub mod blocks;
pub mod conversations;
pub mod dashboard;
pub mod directory;
pub mod extract;
pub mod filters;
pub mod groups;
pub mod instance;
pub mod lists;
pub mod media;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod push;
pub mod reports;
pub mod scheduled;
pub mod search;
pub mod statuses;
pub mod streaming;
pub mod tags;
pub mod timelines;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use crate::http::ApiError;
use crate::store::statuses::Page;

/// Pagination parameters as clients send them.
#[derive(Debug, Deserialize, Default)]
pub struct PageParams {
    #[serde(default, deserialize_with = "extract::flex_id")]
    pub max_id: Option<String>,
    #[serde(default, deserialize_with = "extract::flex_id")]
    pub since_id: Option<String>,
    #[serde(default, deserialize_with = "extract::flex_id")]
    pub min_id: Option<String>,
    #[serde(default, deserialize_with = "extract::flex_id")]
    pub limit: Option<String>,
}

impl PageParams {
    /// A page with `limit` clamped to 1..=`max` (default `default`). A cursor that is not a
    /// number is a client error.
    pub fn page(&self, default: i64, max: i64) -> Result<Page, ApiError> {
        let cursor = |v: &Option<String>, name: &str| -> Result<Option<i64>, ApiError> {
            v.as_deref()
                .map(|s| {
                    s.parse::<i64>()
                        .map_err(|_| ApiError::bad_request(format!("{name} must be an id")))
                })
                .transpose()
        };
        let limit = match &self.limit {
            Some(l) => l
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request("limit must be a number"))?,
            None => default,
        };
        Ok(Page {
            max_id: cursor(&self.max_id, "max_id")?,
            since_id: cursor(&self.since_id, "since_id")?,
            min_id: cursor(&self.min_id, "min_id")?,
            limit: limit.clamp(1, max),
        })
    }
}

/// A JSON list with Mastodon's `Link` header: `next` (older, `max_id`) first, then `prev`
/// (newer, `min_id`). `keys` are the cursors of the first and last item (ids, or relation ids
/// for account lists); no header for an empty page.
pub fn paginated(
    items: Vec<Value>,
    keys: Option<(i64, i64)>,
    url: &str,
    extra_query: &[(String, String)],
) -> Response {
    let mut response = Json(items).into_response();
    if let Some((newest, oldest)) = keys {
        let link = |cursor: &str, value: i64| {
            let mut pairs: Vec<(String, String)> = extra_query
                .iter()
                .filter(|(k, _)| !["max_id", "min_id", "since_id"].contains(&k.as_str()))
                .cloned()
                .collect();
            pairs.push((cursor.to_string(), value.to_string()));
            let query = serde_html_form::to_string(&pairs).unwrap_or_default();
            format!("<{url}?{query}>")
        };
        let value = format!(
            "{}; rel=\"next\", {}; rel=\"prev\"",
            link("max_id", oldest),
            link("min_id", newest)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}

/// A page of accounts listed through a relation (followers, requests, favourited_by, ...),
/// its relation ids as the cursors.
pub fn account_page(
    urls: &crate::convert::NodeUrls,
    page: &crate::domain::accounts::AccountPage,
    url: &str,
    uri: &axum::http::Uri,
) -> Response {
    let items = crate::convert::mastodon::accounts(&page.accounts, urls);
    paginated(items, page.keys, url, &query_pairs(uri))
}

/// The query string of a request as pairs, to carry filters into Link URLs.
pub fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|q| serde_html_form::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "access_token")
        .collect()
}
