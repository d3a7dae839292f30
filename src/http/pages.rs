//! The few HTML pages a browser sees. Internal content is never on them: staff read through
//! their apps, which authenticate.

use axum::extract::{Path, State};
use axum::response::Html;

use super::{ApiError, AppState};
use crate::convert::text::escape;

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main>{body}</main></body></html>\n",
        title = escape(title),
    ))
}

pub async fn landing(State(state): State<AppState>) -> Html<String> {
    let name = &state.node.config.server.node_name;
    page(
        name,
        &format!(
            "<h1>{}</h1><p>This is a fika node. Log in with a Mastodon app using the address \
             <code>{}</code>.</p>",
            escape(name),
            escape(state.node.urls.base.as_str())
        ),
    )
}

/// `/@name`: the profile URL peers and apps link to. It confirms the account exists and says
/// where to read it, without showing anything an anonymous visitor should not see.
pub async fn profile(
    State(state): State<AppState>,
    Path(profile): Path<String>,
) -> Result<Html<String>, ApiError> {
    let username = profile.strip_prefix('@').ok_or_else(ApiError::not_found)?;
    let account = crate::domain::accounts::find_local(&state.node.store, username)
        .await?
        .filter(|a| !a.suspended)
        .ok_or_else(ApiError::not_found)?;
    let handle = format!("@{}@{}", account.username, state.node.urls.domain);
    Ok(page(
        &handle,
        &format!(
            "<h1>{}</h1><p>Open this profile in a Mastodon app logged in to this organisation's \
             network.</p>",
            escape(&handle)
        ),
    ))
}
