//! Stored rows to AS2 documents.

use fika_federation::actor::{person, Image, LocalActor};
use serde_json::Value;

use super::{rfc3339_millis, text::plain_to_html, NodeUrls};
use crate::store::accounts::AccountRow;

/// Profile fields as stored: a JSON array of `{name, value}`.
pub fn profile_fields(row: &AccountRow) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Field {
        name: String,
        value: String,
    }
    serde_json::from_str::<Vec<Field>>(&row.fields)
        .map(|fields| fields.into_iter().map(|f| (f.name, f.value)).collect())
        .unwrap_or_else(|e| {
            tracing::warn!(account = row.id, error = %e, "ignoring unreadable profile fields");
            Vec::new()
        })
}

pub fn local_person(row: &AccountRow, urls: &NodeUrls) -> Value {
    let name = &row.username;
    let (id, profile) = (urls.actor(name), urls.profile(name));
    let (inbox, outbox) = (urls.inbox(name), urls.outbox(name));
    let (followers, following) = (urls.followers(name), urls.following(name));
    let shared_inbox = urls.shared_inbox();
    let fields = profile_fields(row);
    let image = |path: &str| (!path.is_empty()).then(|| Image::new(urls.media(path), None));
    person(&LocalActor {
        id: &id,
        username: name,
        display_name: &row.display_name,
        summary_html: &plain_to_html(&row.note),
        profile_url: &profile,
        inbox: &inbox,
        outbox: &outbox,
        followers: &followers,
        following: &following,
        shared_inbox: &shared_inbox,
        public_key_pem: &row.public_key_pem,
        manually_approves_followers: row.locked,
        discoverable: row.discoverable,
        published: &rfc3339_millis(row.created_at),
        fields: &fields,
        icon: image(&row.avatar_path),
        image: image(&row.header_path),
    })
}
