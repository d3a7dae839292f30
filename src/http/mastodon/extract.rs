//! Request parsing as Mastodon clients send it: bearer tokens with scopes, and bodies as JSON,
//! form-urlencoded or multipart, with `key[]` arrays and booleans in every spelling.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;

use crate::domain::oauth::Scopes;
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::oauth::TokenRow;

/// A request with a valid access token (user or app-only).
pub struct Auth {
    pub token: TokenRow,
    /// The token as the app sent it (Web Push payloads carry it back).
    pub bearer: String,
    pub scopes: Scopes,
    pub account: Option<AccountRow>,
}

/// The token of a request, from `Authorization: Bearer` or the `access_token` parameter.
pub fn bearer_token(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    let query = parts.uri.query()?;
    serde_html_form::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v)
}

pub fn invalid_token() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "The access token is invalid")
}

/// Looks a token up and loads its account (refusing suspended ones).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Auth, ApiError> {
    let found = crate::domain::oauth::authenticate(&state.node, token)
        .await?
        .ok_or_else(invalid_token)?;
    Ok(Auth {
        bearer: token.to_string(),
        token: found.token,
        scopes: found.scopes,
        account: found.account,
    })
}

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer_token(parts).ok_or_else(invalid_token)?;
        authenticate(&state, &token).await
    }
}

impl Auth {
    /// Refuses with 403 unless the token grants `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "This action is outside the authorized scopes",
            ))
        }
    }

    /// The signed-in user, with the scope checked; app-only tokens get Mastodon's 422.
    pub fn user(&self, scope: &str) -> Result<&AccountRow, ApiError> {
        self.require(scope)?;
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))
    }

    pub fn app_info(&self) -> crate::domain::statuses::AppInfo {
        crate::domain::statuses::AppInfo {
            name: self.token.app_name.clone(),
            website: self.token.app_website.clone(),
        }
    }
}

/// Query parameters with `key[]` arrays (`types[]=a&types[]=b`).
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_html_form::from_str(query)
            .map(Query)
            .map_err(|e| ApiError::bad_request(format!("Invalid query: {e}")))
    }
}

/// A request body as JSON, form-urlencoded or multipart (text parts only), whatever the client
/// chose; an empty body deserialises like `{}`.
pub struct Body<T>(pub T);

fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_str("{}").map_err(|e| ApiError::unprocessable(e.to_string()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON body: {e}")))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))
}

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = content_type(&req);
        if ct.starts_with("multipart/form-data") {
            let form = MultipartForm::from_request(req, state).await?;
            return form.deserialize().map(Body);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        if ct.starts_with("application/json") || ct.ends_with("+json") {
            return parse_json(&bytes).map(Body);
        }
        // Form-urlencoded, or no content type at all (some clients send none on empty POSTs).
        if ct.is_empty() && bytes.first() == Some(&b'{') {
            return parse_json(&bytes).map(Body);
        }
        serde_html_form::from_bytes(&bytes)
            .map(Body)
            .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))
    }
}

/// A boolean parameter as forms and JSON spell it.
pub fn truthy(v: &str) -> Result<bool, ApiError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        other => Err(ApiError::unprocessable(format!(
            "Validation failed: {other:?} is not a boolean"
        ))),
    }
}

/// A request's parameters as flat (name, value) pairs, from the query and the body (JSON,
/// form-urlencoded or multipart): JSON objects flatten to `key[sub]`, arrays to `key[]` (of
/// objects: `key[0][sub]`), as a form spells them, so one reader serves every encoding (the admin dashboard's
/// `tag_accounts[id]`, sent as `{"tag_accounts": {"id": …}}` in JSON).
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The value of `name` (the last one given).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}[{k}]")
                };
                flatten(&name, v, out);
            }
        }
        Value::Array(items) => {
            // Objects by their index (`key[0][field]`, as Rails forms number them), so that
            // their fields stay together; plain values as `key[]`.
            for (i, item) in items.iter().enumerate() {
                let name = match item {
                    Value::Object(_) => format!("{prefix}[{i}]"),
                    _ => format!("{prefix}[]"),
                };
                flatten(&name, item, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        Value::Null => {}
    }
}

impl<S> FromRequest<S> for Pairs
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut pairs: Vec<(String, String)> =
            serde_html_form::from_str(req.uri().query().unwrap_or(""))
                .map_err(|e| ApiError::bad_request(format!("Invalid query: {e}")))?;
        let ct = content_type(&req);
        if ct.starts_with("multipart/form-data") {
            pairs.extend(MultipartForm::from_request(req, state).await?.fields);
            return Ok(Pairs(pairs));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        let json = ct.starts_with("application/json")
            || ct.ends_with("+json")
            || (ct.is_empty() && bytes.first() == Some(&b'{'));
        if json {
            let value: serde_json::Value = parse_json(&bytes)?;
            if !value.is_object() {
                return Err(ApiError::unprocessable(
                    "Validation failed: the body must be a JSON object",
                ));
            }
            flatten("", &value, &mut pairs);
        } else {
            let form: Vec<(String, String)> = serde_html_form::from_bytes(&bytes)
                .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?;
            pairs.extend(form);
        }
        Ok(Pairs(pairs))
    }
}

/// An uploaded file.
pub struct FilePart {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A multipart body: text fields in order, and files by field name.
pub struct MultipartForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, FilePart)>,
}

impl MultipartForm {
    pub fn file(&mut self, name: &str) -> Option<FilePart> {
        let i = self.files.iter().position(|(n, _)| n == name)?;
        Some(self.files.remove(i).1)
    }

    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let encoded = serde_html_form::to_string(&self.fields).map_err(ApiError::internal)?;
        serde_html_form::from_str(&encoded)
            .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))
    }
}

impl<S> FromRequest<S> for MultipartForm
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let too_large =
            || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large");
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let mut fields = Vec::new();
        let mut files = Vec::new();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(ApiError::bad_request(e.body_text())),
            };
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::bad_request(e.body_text())
                }
            })?;
            if file_name.is_some() {
                files.push((
                    name,
                    FilePart {
                        file_name,
                        bytes: bytes.to_vec(),
                    },
                ));
            } else {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::bad_request(format!("field {name} is not UTF-8")))?;
                fields.push((name, text));
            }
        }
        Ok(MultipartForm { fields, files })
    }
}

/// Booleans as clients send them: JSON booleans, `true`/`false`, `1`/`0`, `on`/`off`.
pub fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        N(i64),
        S(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::B(b)) => Some(b),
        Some(Raw::N(n)) => Some(n != 0),
        Some(Raw::S(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "false" | "0" | "off" | "no" | "f" => Some(false),
            "" => None,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "{other:?} is not a boolean"
                )))
            }
        },
    })
}

/// A boolean that must be one: JSON `true`/`false`, or `"true"`/`"false"`/`"1"`/`"0"` as form
/// data sends it (an empty form value is no value). Anything else is refused, for a flag whose
/// misreading would send a status somewhere its author did not mean (`local_only`).
pub fn strict_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        S(String),
        Other(serde::de::IgnoredAny),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::B(b)) => Ok(Some(b)),
        Some(Raw::S(s)) => match s.as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            "" => Ok(None),
            other => Err(serde::de::Error::custom(format!(
                "{other:?} is not a boolean (true or false)"
            ))),
        },
        Some(Raw::Other(_)) => Err(serde::de::Error::custom(
            "the value is not a boolean (true or false)",
        )),
    }
}

/// An id sent as a string or a number (Mastodon.py sends numeric-looking ids as ints).
pub fn flex_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(i64),
        S(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::N(n)) => Some(n.to_string()),
        Some(Raw::S(s)) if s.is_empty() => None,
        Some(Raw::S(s)) => Some(s),
    })
}

/// A list of ids, as `key[]` form values, a JSON array of strings or numbers, or one value.
pub fn flex_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum One {
        N(i64),
        S(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Many(Vec<One>),
        One(One),
    }
    let to_s = |o: One| match o {
        One::N(n) => n.to_string(),
        One::S(s) => s,
    };
    Ok(match Option::<Raw>::deserialize(d)? {
        None => vec![],
        Some(Raw::Many(v)) => v.into_iter().map(to_s).filter(|s| !s.is_empty()).collect(),
        Some(Raw::One(o)) => {
            let s = to_s(o);
            if s.is_empty() {
                vec![]
            } else {
                vec![s]
            }
        }
    })
}

/// Parses an id path or body value; a malformed id names nothing, so it is a 404.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.trim().parse::<i64>().map_err(|_| ApiError::not_found())
}
