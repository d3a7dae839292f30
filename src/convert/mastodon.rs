//! Stored rows to Mastodon client API entities. Every key a strict client (Tusky's generated
//! adapters) requires is always present, with `null`, `""` or `[]` where allowed.

use serde_json::{json, Value};

use super::{rfc3339_millis, text::plain_to_html, NodeUrls};
use crate::convert::activitypub::profile_fields;
use crate::store::accounts::{AccountCounts, AccountRow};
use crate::store::media::MediaRow;
use crate::store::social::NotificationRow;
use crate::store::statuses::{EditRow, StatusCounts, StatusRow};

/// `user` for local accounts, `user@domain` for remote ones.
pub fn acct(row: &AccountRow) -> String {
    if row.domain.is_empty() {
        row.username.clone()
    } else {
        format!("{}@{}", row.username, row.domain)
    }
}

/// Clients need an image URL even when the user set none.
fn image_url(urls: &NodeUrls, path: &str, fallback: &str) -> String {
    if path.is_empty() {
        urls.base
            .join(fallback)
            .map(|u| u.to_string())
            .unwrap_or_default()
    } else {
        urls.media(path).to_string()
    }
}

/// Mastodon reports account creation as midnight UTC of that day.
fn created_day(ms: i64) -> String {
    let day = ms - ms.rem_euclid(86_400_000);
    rfc3339_millis(day)
}

pub fn account(row: &AccountRow, counts: &AccountCounts, urls: &NodeUrls) -> Value {
    let fields: Vec<Value> = profile_fields(row)
        .into_iter()
        .map(|(name, value)| {
            json!({"name": name, "value": crate::convert::text::escape(&value), "verified_at": null})
        })
        .collect();
    let avatar = row
        .avatar_url
        .clone()
        .unwrap_or_else(|| image_url(urls, &row.avatar_path, "/static/avatar.png"));
    let header = row
        .header_url
        .clone()
        .unwrap_or_else(|| image_url(urls, &row.header_path, "/static/header.png"));
    let (url, uri, note) = if row.is_local() {
        (
            urls.profile(&row.username).to_string(),
            urls.actor(&row.username).to_string(),
            plain_to_html(&row.note),
        )
    } else {
        let uri = row.ap_id.clone().unwrap_or_default();
        (
            row.profile_url.clone().unwrap_or_else(|| uri.clone()),
            uri,
            row.note.clone(),
        )
    };
    json!({
        "id": row.id.to_string(),
        "username": row.username,
        "acct": acct(row),
        "display_name": row.display_name,
        "locked": row.locked,
        "bot": row.bot,
        "discoverable": row.discoverable,
        "indexable": false,
        "group": false,
        "created_at": created_day(row.created_at),
        "note": note,
        "url": url,
        "uri": uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.statuses,
        "last_status_at": counts.last_status_at.map(|ms| rfc3339_millis(ms)[..10].to_string()),
        "hide_collections": false,
        "noindex": true,
        "emojis": [],
        "roles": [],
        "fields": fields,
        "suspended": row.suspended.then_some(true),
        "limited": null,
        "memorial": null,
        "moved": null,
    })
}

/// The signed-in user's own account, with `source` (what they typed) and `role`.
pub fn credential_account(
    row: &AccountRow,
    counts: &AccountCounts,
    urls: &NodeUrls,
    follow_requests_count: i64,
) -> Value {
    let mut v = account(row, counts, urls);
    let fields: Vec<Value> = profile_fields(row)
        .into_iter()
        .map(|(name, value)| json!({"name": name, "value": value, "verified_at": null}))
        .collect();
    v["source"] = json!({
        "privacy": row.default_privacy,
        "sensitive": row.default_sensitive,
        "language": row.default_language,
        "note": row.note,
        "fields": fields,
        "follow_requests_count": follow_requests_count,
        "indexable": false,
        "hide_collections": false,
        "discoverable": row.discoverable,
    });
    let (id, permissions) = match row.role.as_str() {
        "admin" => ("3", "1048575"),
        "moderator" => ("2", "1332"),
        _ => ("-99", "65536"),
    };
    v["role"] = json!({
        "id": id,
        "name": if row.role == "user" { "" } else { row.role.as_str() },
        "color": "",
        "permissions": permissions,
        "highlighted": row.role != "user",
    });
    v
}

pub fn media(m: &MediaRow, urls: &NodeUrls) -> Value {
    let kind = if m.content_type == "image/gif" {
        "gifv"
    } else {
        "image"
    };
    let (w, h) = (m.width, m.height);
    let aspect = if h > 0 { w as f64 / h as f64 } else { 1.0 };
    let (tw, th) = super::thumbnail_size(w as u32, h as u32);
    let (url, preview) = match &m.remote_url {
        Some(remote) => (remote.clone(), remote.clone()),
        None => (
            urls.media(&m.file_name).to_string(),
            urls.media(&m.thumb_name).to_string(),
        ),
    };
    json!({
        "id": m.id.to_string(),
        "type": if m.content_type == "image/gif" { "image" } else { kind },
        "url": url,
        "preview_url": preview,
        "remote_url": m.remote_url,
        "preview_remote_url": null,
        "text_url": null,
        "description": if m.description.is_empty() { Value::Null } else { json!(m.description) },
        "blurhash": null,
        "meta": {
            "original": {"width": w, "height": h, "size": format!("{w}x{h}"), "aspect": aspect},
            "small": {"width": tw, "height": th, "size": format!("{tw}x{th}"), "aspect": aspect},
            "focus": {"x": m.focus_x, "y": m.focus_y},
        },
    })
}

pub fn tag(display: &str, urls: &NodeUrls) -> Value {
    json!({
        "name": display,
        "url": urls.tag(display).to_string(),
        "history": [],
        "following": false,
    })
}

/// Everything needed to render one status for one viewer.
pub struct StatusParts<'a> {
    pub row: &'a StatusRow,
    pub account: Value,
    pub counts: StatusCounts,
    pub media: Vec<Value>,
    pub mentions: Vec<Value>,
    pub tags: Vec<Value>,
    pub favourited: Option<bool>,
    pub reblogged: Option<bool>,
    pub bookmarked: Option<bool>,
    pub reblog: Option<Value>,
}

pub fn status_uri(row: &StatusRow, account: &AccountRow, urls: &NodeUrls) -> String {
    row.uri
        .clone()
        .unwrap_or_else(|| urls.status(&account.username, row.id).to_string())
}

pub fn status(p: StatusParts<'_>, uri: String, url: Option<String>) -> Value {
    let r = p.row;
    let application = r
        .app_name
        .as_ref()
        .map(|name| json!({"name": name, "website": r.app_website}));
    let mut v = json!({
        "id": r.id.to_string(),
        "uri": uri,
        "url": url,
        "created_at": rfc3339_millis(r.created_at),
        "edited_at": r.edited_at.map(rfc3339_millis),
        "account": p.account,
        "content": r.content,
        "visibility": r.visibility.as_str(),
        "sensitive": r.sensitive,
        "spoiler_text": r.spoiler_text,
        "language": r.language,
        "in_reply_to_id": r.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": r.in_reply_to_account_id.map(|i| i.to_string()),
        "reblog": p.reblog,
        "media_attachments": p.media,
        "mentions": p.mentions,
        "tags": p.tags,
        "emojis": [],
        "card": null,
        "poll": null,
        "application": application,
        "replies_count": p.counts.replies,
        "reblogs_count": p.counts.reblogs,
        "favourites_count": p.counts.favourites,
        "filtered": [],
    });
    if let Some(f) = p.favourited {
        v["favourited"] = json!(f);
        v["reblogged"] = json!(p.reblogged.unwrap_or(false));
        v["bookmarked"] = json!(p.bookmarked.unwrap_or(false));
        v["muted"] = json!(false);
        v["pinned"] = json!(false);
    }
    v
}

pub fn mention(row: &AccountRow, urls: &NodeUrls) -> Value {
    let url = if row.is_local() {
        urls.profile(&row.username).to_string()
    } else {
        row.profile_url
            .clone()
            .or_else(|| row.ap_id.clone())
            .unwrap_or_default()
    };
    json!({
        "id": row.id.to_string(),
        "username": row.username,
        "acct": acct(row),
        "url": url,
    })
}

pub fn notification(n: &NotificationRow, account: Value, status: Option<Value>) -> Value {
    json!({
        "id": n.id.to_string(),
        "type": n.kind,
        "created_at": rfc3339_millis(n.created_at),
        "group_key": format!("ungrouped-{}", n.id),
        "account": account,
        "status": status,
    })
}

pub fn edit(e: &EditRow, account: Value, media: Vec<Value>) -> Value {
    json!({
        "content": e.content,
        "spoiler_text": e.spoiler_text,
        "sensitive": e.sensitive,
        "created_at": rfc3339_millis(e.created_at),
        "account": account,
        "poll": null,
        "media_attachments": media,
        "emojis": [],
    })
}
