//! Media uploads and the files behind them.

use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{parse_id, Auth, Body, MultipartForm};
use crate::convert::mastodon;
use crate::domain::media;
use crate::http::{ApiError, AppState};

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("File is too large: the limit is {limit} bytes"),
    )
}

/// `POST /api/v1/media` and `/api/v2/media`: images are processed at once, so both answer 200
/// with the URL set.
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    mut form: MultipartForm,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:media")?;
    let file = form
        .file("file")
        .ok_or_else(|| ApiError::unprocessable("Validation failed: File can't be blank"))?;
    let limit = state.node.config.media.max_image_bytes;
    if file.bytes.len() > limit {
        return Err(too_large(limit));
    }
    if file.bytes.is_empty() {
        return Err(ApiError::unprocessable("Validation failed: File is empty"));
    }
    let description = form
        .fields
        .iter()
        .find(|(k, _)| k == "description")
        .map(|(_, v)| v.clone())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > media::MAX_DESCRIPTION)
    {
        return Err(ApiError::unprocessable(
            "Validation failed: Description is too long",
        ));
    }
    let focus = form
        .fields
        .iter()
        .find(|(k, _)| k == "focus")
        .map(|(_, v)| media::parse_focus(v))
        .transpose()?;
    let row = media::upload(
        &state.node.store,
        &state.node.config.data_dir,
        me.id,
        file.bytes,
        description,
        focus,
    )
    .await?;
    Ok(Json(mastodon::media(&row, &state.node.urls)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:media")?;
    let row = media::own(&state.node, me.id, parse_id(&id)?).await?;
    Ok(Json(mastodon::media(&row, &state.node.urls)))
}

#[derive(Deserialize, Default)]
pub struct UpdateForm {
    description: Option<String>,
    focus: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<UpdateForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:media")?;
    let row = media::update(
        &state.node,
        me.id,
        parse_id(&id)?,
        form.description.as_deref(),
        form.focus.as_deref(),
    )
    .await?;
    Ok(Json(mastodon::media(&row, &state.node.urls)))
}

/// Serves a stored file (`domain::media::file` says which names are ours).
pub async fn file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let file = media::file(&state.node, &name).await?;
    let mut response = HttpBody::from(file.bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// Default avatar and header for accounts without one (apps need a URL).
pub async fn default_image(Path(name): Path<String>) -> Result<Response, ApiError> {
    static AVATAR: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    static HEADER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let make = |w: u32, h: u32, rgb: [u8; 3]| {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
        let mut out = Vec::new();
        let _ = img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png);
        out
    };
    let bytes = match name.as_str() {
        "avatar.png" => AVATAR
            .get_or_init(|| make(120, 120, [0x8a, 0x8d, 0x91]))
            .clone(),
        "header.png" => HEADER
            .get_or_init(|| make(600, 200, [0xd9, 0xe1, 0xe8]))
            .clone(),
        _ => return Err(ApiError::not_found()),
    };
    let mut response = HttpBody::from(bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(response)
}
