//! Accounts: the signed-in user's own, others', relationships, follows.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_ids, parse_id, Auth, Body, MultipartForm, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::accounts::{self, ProfileInput};
use crate::domain::{follows, search, timelines};
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::social::FollowList;

pub async fn verify_credentials(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    let view = accounts::credential(&state.node, me).await?;
    Ok(Json(mastodon::credential(&view, &state.node.urls)))
}

#[derive(Deserialize, Default)]
struct ProfileForm {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    discoverable: Option<bool>,
    #[serde(rename = "source[privacy]")]
    privacy: Option<String>,
    #[serde(default, rename = "source[sensitive]", deserialize_with = "flex_bool")]
    sensitive: Option<bool>,
    #[serde(rename = "source[language]")]
    language: Option<String>,
    source: Option<SourceJson>,
    fields_attributes: Option<Value>,
}

#[derive(Deserialize, Default)]
struct SourceJson {
    privacy: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
}

/// `fields_attributes[0][name]=…` pairs from a form, or a JSON object/array.
fn fields_from_pairs(pairs: &[(String, String)]) -> Option<Vec<(String, String)>> {
    let mut fields: std::collections::BTreeMap<usize, (String, String)> = Default::default();
    let mut any = false;
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix("fields_attributes[") else {
            continue;
        };
        let Some((index, attr)) = rest.split_once("][") else {
            continue;
        };
        let Ok(i) = index.parse::<usize>() else {
            continue;
        };
        any = true;
        let entry = fields.entry(i).or_default();
        match attr.trim_end_matches(']') {
            "name" => entry.0 = v.clone(),
            "value" => entry.1 = v.clone(),
            _ => {}
        }
    }
    any.then(|| fields.into_values().collect())
}

fn fields_from_json(v: &Value) -> Option<Vec<(String, String)>> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => {
            let mut keys: Vec<(&String, &Value)> = o.iter().collect();
            keys.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(usize::MAX));
            keys.into_iter().map(|(_, v)| v).collect()
        }
        _ => return None,
    };
    Some(
        items
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("").to_string(),
                    f["value"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
    )
}

pub async fn update_credentials(
    State(state): State<AppState>,
    auth: Auth,
    request: axum::extract::Request,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?.clone();
    let ct = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (form, fields, avatar, header) = if ct.starts_with("multipart/form-data") {
        let mut multipart =
            <MultipartForm as axum::extract::FromRequest<()>>::from_request(request, &()).await?;
        let form: ProfileForm = multipart.deserialize()?;
        let fields = fields_from_pairs(&multipart.fields);
        (
            form,
            fields,
            multipart.file("avatar").map(|f| f.bytes),
            multipart.file("header").map(|f| f.bytes),
        )
    } else {
        let bytes =
            axum::body::to_bytes(request.into_body(), state.node.config.server.max_body_bytes)
                .await
                .map_err(|_| {
                    ApiError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "Request body is too large",
                    )
                })?;
        if ct.starts_with("application/json") {
            let form: ProfileForm = if bytes.is_empty() {
                ProfileForm::default()
            } else {
                serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::bad_request(format!("Malformed JSON body: {e}")))?
            };
            let fields = form.fields_attributes.as_ref().and_then(fields_from_json);
            (form, fields, None, None)
        } else {
            let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&bytes)
                .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?;
            let form: ProfileForm = serde_html_form::from_bytes(&bytes)
                .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?;
            (form, fields_from_pairs(&pairs), None, None)
        }
    };
    let source = form.source.unwrap_or_default();
    let input = ProfileInput {
        display_name: form.display_name,
        note: form.note,
        locked: form.locked,
        bot: form.bot,
        discoverable: form.discoverable,
        fields,
        avatar,
        header,
        privacy: form.privacy.or(source.privacy),
        sensitive: form.sensitive.or(source.sensitive),
        language: form.language.or(source.language),
    };
    let view = accounts::update_profile(&state.node, &me, input).await?;
    Ok(Json(mastodon::credential(&view, &state.node.urls)))
}

async fn load(state: &AppState, id: &str) -> Result<AccountRow, ApiError> {
    Ok(accounts::visible(&state.node, parse_id(id)?).await?)
}

async fn one_account(state: &AppState, id: i64) -> Result<Json<Value>, ApiError> {
    accounts::views(&state.node, &[id])
        .await?
        .pop()
        .map(|a| Json(mastodon::account_view(&a, &state.node.urls)))
        .ok_or_else(ApiError::not_found)
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require("read:accounts")?;
    let account = load(&state, &id).await?;
    one_account(&state, account.id).await
}

#[derive(Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    acct: String,
}

pub async fn lookup(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<LookupQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require("read:accounts")?;
    let acct = q.acct.trim().trim_start_matches('@');
    let (name, domain) = match acct.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (acct, None),
    };
    if let Some(domain) = domain.filter(|d| !d.eq_ignore_ascii_case(&state.node.urls.domain)) {
        let account = crate::domain::federation::resolve::resolve_acct(&state.node, name, domain)
            .await
            .map_err(|_| ApiError::not_found())?;
        return one_account(&state, account.id).await;
    }
    let account = accounts::find_local(&state.node.store, name)
        .await?
        .filter(|a| !a.suspended)
        .ok_or_else(ApiError::not_found)?;
    one_account(&state, account.id).await
}

#[derive(Deserialize, Default)]
pub struct AccountStatusesQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex_bool")]
    only_media: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    pinned: Option<bool>,
    tagged: Option<String>,
}

pub async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<AccountStatusesQuery>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let account = load(&state, &id).await?;
    let page = q.page.page(20, 40)?;
    let url = state
        .node
        .urls
        .api(&format!("/api/v1/accounts/{}/statuses", account.id));
    let query = timelines::ProfileQuery {
        only_media: q.only_media.unwrap_or(false),
        exclude_replies: q.exclude_replies.unwrap_or(false),
        exclude_reblogs: q.exclude_reblogs.unwrap_or(false),
        pinned: q.pinned == Some(true),
        tagged: q.tagged.clone(),
    };
    let list = timelines::statuses_of(&state.node, me, &account, query, &page).await?;
    let items = mastodon::statuses(&list.statuses, &state.node.urls);
    Ok(paginated(items, list.keys, &url, &query_pairs(&uri)))
}

async fn follow_list(
    state: &AppState,
    auth: &Auth,
    id: &str,
    kind: FollowList,
    uri: &Uri,
    q: &PageParams,
    path: &str,
) -> Result<Response, ApiError> {
    auth.require("read:accounts")?;
    let id = parse_id(id)?;
    let page = q.page(40, 80)?;
    let list = follows::list(&state.node, id, kind, &page).await?;
    let url = state
        .node
        .urls
        .api(&format!("/api/v1/accounts/{id}/{path}"));
    Ok(super::account_page(&state.node.urls, &list, &url, uri))
}

pub async fn followers(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    follow_list(
        &state,
        &auth,
        &id,
        FollowList::Followers,
        &uri,
        &q,
        "followers",
    )
    .await
}

pub async fn following(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    follow_list(
        &state,
        &auth,
        &id,
        FollowList::Following,
        &uri,
        &q,
        "following",
    )
    .await
}

#[derive(Deserialize)]
pub struct IdsQuery {
    #[serde(default, rename = "id[]", alias = "id", deserialize_with = "flex_ids")]
    id: Vec<String>,
}

impl IdsQuery {
    /// The ids given that are ids (others name nothing).
    pub fn parsed_ids(&self) -> Result<Vec<i64>, ApiError> {
        Ok(self.id.iter().filter_map(|s| s.parse().ok()).collect())
    }
}

pub async fn relationships(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<IdsQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:follows")?;
    let ids: Vec<i64> = q.id.iter().filter_map(|s| s.parse().ok()).collect();
    let views = follows::relationships(&state.node, me, &ids).await?;
    Ok(Json(Value::Array(mastodon::relationships(&views))))
}

#[derive(Deserialize, Default)]
pub struct FollowForm {
    #[serde(default, deserialize_with = "flex_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flex_bool")]
    notify: Option<bool>,
}

pub async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<FollowForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    let target = parse_id(&id)?;
    let view = follows::follow(
        &state.node,
        me,
        target,
        form.reblogs.unwrap_or(true),
        form.notify.unwrap_or(false),
    )
    .await?;
    Ok(Json(mastodon::relationship(&view)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    Ok(Json(mastodon::relationship(
        &follows::unfollow(&state.node, me, parse_id(&id)?).await?,
    )))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "super::extract::flex_id")]
    offset: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    resolve: Option<bool>,
}

pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.user("read:accounts")?;
    let limit = q.page.page(40, 80)?.limit;
    let offset = q.offset.and_then(|o| o.parse().ok()).unwrap_or(0);
    let resolve = q.resolve.unwrap_or(false);
    let views = search::accounts(&state.node, &q.q, limit, offset, resolve).await?;
    Ok(Json(Value::Array(mastodon::accounts(
        &views,
        &state.node.urls,
    ))))
}

pub async fn follow_requests(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:follows")?;
    let page = q.page(40, 80)?;
    let list = follows::requests(&state.node, me, &page).await?;
    let url = state.node.urls.api("/api/v1/follow_requests");
    Ok(super::account_page(&state.node.urls, &list, &url, &uri))
}

pub async fn authorize_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    Ok(Json(mastodon::relationship(
        &follows::authorize(&state.node, me, parse_id(&id)?).await?,
    )))
}

pub async fn reject_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:follows")?;
    Ok(Json(mastodon::relationship(
        &follows::reject(&state.node, me, parse_id(&id)?).await?,
    )))
}

/// `POST /api/v1/accounts/:id/pin`: endorse (feature on one's profile) an account one follows.
pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    Ok(Json(mastodon::relationship(
        &follows::endorse(&state.node, me, parse_id(&id)?).await?,
    )))
}

/// `POST /api/v1/accounts/:id/unpin`.
pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    Ok(Json(mastodon::relationship(
        &follows::unendorse(&state.node, me, parse_id(&id)?).await?,
    )))
}

/// `GET /api/v1/endorsements`: the accounts the viewer endorses, newest first.
pub async fn endorsements(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:accounts")?;
    let page = q.page(40, 80)?;
    let list = follows::endorsements(&state.node, me, &page).await?;
    let url = state.node.urls.api("/api/v1/endorsements");
    Ok(super::account_page(&state.node.urls, &list, &url, &uri))
}

#[derive(Deserialize, Default)]
pub struct SuggestionsQuery {
    limit: Option<i64>,
}

/// `GET /api/v2/suggestions`: colleagues worth following, with why.
pub async fn suggestions_v2(
    state: State<AppState>,
    auth: Auth,
    q: Query<SuggestionsQuery>,
) -> Result<Json<Value>, ApiError> {
    suggestions(state, auth, q, true).await
}

/// `GET /api/v1/suggestions`: the same, as accounts.
pub async fn suggestions_v1(
    state: State<AppState>,
    auth: Auth,
    q: Query<SuggestionsQuery>,
) -> Result<Json<Value>, ApiError> {
    suggestions(state, auth, q, false).await
}

async fn suggestions(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SuggestionsQuery>,
    with_sources: bool,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read")?;
    let found = follows::suggestions(&state.node, me, q.limit.unwrap_or(40)).await?;
    let urls = &state.node.urls;
    Ok(Json(
        found
            .iter()
            .map(|(source, a)| match with_sources {
                true => mastodon::suggestion(*source, a, urls),
                false => mastodon::account(&a.row, &a.counts, urls),
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/suggestions/:account_id`: never suggest that account again.
pub async fn dismiss_suggestion(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read")?;
    follows::dismiss_suggestion(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}
