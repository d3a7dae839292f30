//! The AS2 actor document (`Person`) as Mastodon-class peers expect it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

/// What the node knows about a local account, in the terms the actor document needs.
#[derive(Debug, Clone)]
pub struct LocalActor<'a> {
    /// `Person`, or `Group` for a group (FEP-1b12).
    pub kind: &'a str,
    pub id: &'a Url,
    pub username: &'a str,
    pub display_name: &'a str,
    /// Profile text, already rendered to HTML.
    pub summary_html: &'a str,
    pub profile_url: &'a Url,
    pub inbox: &'a Url,
    pub outbox: &'a Url,
    pub followers: &'a Url,
    pub following: &'a Url,
    pub shared_inbox: &'a Url,
    pub public_key_pem: &'a str,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: &'a str,
    pub fields: &'a [(String, String)],
    /// Featured hashtags: (display name without `#`, the tag's URL on this node).
    pub featured_tags: &'a [(String, Url)],
    pub icon: Option<Image>,
    pub image: Option<Image>,
}

/// The `featured` collection (pinned statuses) of the actor `actor_id`.
pub fn featured_url(actor_id: &str) -> String {
    format!("{actor_id}/collections/featured")
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub url: Url,
}

impl Image {
    pub fn new(url: Url, media_type: Option<String>) -> Self {
        Image {
            kind: "Image".into(),
            media_type,
            url,
        }
    }
}

/// `publicKey` of an actor; also what a keyId without a `#` fragment dereferences to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: Url,
    pub owner: Url,
    pub public_key_pem: String,
}

/// The key id we publish: the actor URL with Mastodon's `#main-key` fragment.
pub fn main_key_id(actor: &Url) -> Url {
    let mut key = actor.clone();
    key.set_fragment(Some("main-key"));
    key
}

/// Builds the actor document. Profile fields go out as Mastodon's `PropertyValue` attachments,
/// featured hashtags as `Hashtag` entries of `tag`.
pub fn person(actor: &LocalActor<'_>) -> Value {
    let attachment: Vec<Value> = actor
        .fields
        .iter()
        .map(|(name, value)| json!({"type": "PropertyValue", "name": name, "value": value}))
        .collect();
    let tag: Vec<Value> = actor
        .featured_tags
        .iter()
        .map(|(name, href)| json!({"type": "Hashtag", "name": format!("#{name}"), "href": href}))
        .collect();
    let mut doc = json!({
        "@context": [
            crate::AS_CONTEXT,
            crate::SECURITY_CONTEXT,
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                "toot": "http://joinmastodon.org/ns#",
                "discoverable": "toot:discoverable",
                "indexable": "toot:indexable",
                "featured": {"@id": "toot:featured", "@type": "@id"},
                "schema": "http://schema.org#",
                "PropertyValue": "schema:PropertyValue",
                "value": "schema:value",
                "Hashtag": "as:Hashtag"
            }
        ],
        "id": actor.id,
        "type": actor.kind,
        "preferredUsername": actor.username,
        "name": actor.display_name,
        "summary": actor.summary_html,
        "url": actor.profile_url,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers,
        "following": actor.following,
        // Pinned statuses, at the path Mastodon uses.
        "featured": featured_url(actor.id.as_str()),
        "endpoints": { "sharedInbox": actor.shared_inbox },
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        // Internal posts must never land in a public search index.
        "indexable": false,
        "published": actor.published,
        "attachment": attachment,
        "tag": tag,
        "publicKey": PublicKey {
            id: main_key_id(actor.id),
            owner: actor.id.clone(),
            public_key_pem: actor.public_key_pem.to_owned(),
        },
    });
    if let Some(icon) = &actor.icon {
        doc["icon"] = json!(icon);
    }
    if let Some(image) = &actor.image {
        doc["image"] = json!(image);
    }
    doc
}

/// What an unsigned request for an actor gets: its id and key, nothing else.
pub fn key_only_person(id: &Url, public_key_pem: &str) -> Value {
    json!({
        "@context": [crate::AS_CONTEXT, crate::SECURITY_CONTEXT],
        "id": id,
        "type": "Person",
        "publicKey": PublicKey {
            id: main_key_id(id),
            owner: id.clone(),
            public_key_pem: public_key_pem.to_owned(),
        },
    })
}

/// The node's own actor (an `Application`), which signs fetches made for no particular user.
pub fn node_application(id: &Url, domain: &str, inbox: &Url, public_key_pem: &str) -> Value {
    json!({
        "@context": [crate::AS_CONTEXT, crate::SECURITY_CONTEXT],
        "id": id,
        "type": "Application",
        "preferredUsername": domain,
        "inbox": inbox,
        "outbox": format!("{id}/outbox"),
        "manuallyApprovesFollowers": true,
        "publicKey": PublicKey {
            id: main_key_id(id),
            owner: id.clone(),
            public_key_pem: public_key_pem.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_carries_the_fields_peers_read() {
        let id = Url::parse("https://hq.example/users/ada").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        let (profile, inbox, outbox, followers, following, shared) = (
            u("https://hq.example/@ada"),
            u("https://hq.example/users/ada/inbox"),
            u("https://hq.example/users/ada/outbox"),
            u("https://hq.example/users/ada/followers"),
            u("https://hq.example/users/ada/following"),
            u("https://hq.example/inbox"),
        );
        let fields = vec![("Team".to_string(), "Platform".to_string())];
        let doc = person(&LocalActor {
            kind: "Person",
            id: &id,
            username: "ada",
            display_name: "Ada",
            summary_html: "<p>hi</p>",
            profile_url: &profile,
            inbox: &inbox,
            outbox: &outbox,
            followers: &followers,
            following: &following,
            shared_inbox: &shared,
            public_key_pem: "PEM",
            manually_approves_followers: true,
            discoverable: false,
            published: "2026-01-01T00:00:00Z",
            fields: &fields,
            featured_tags: &[("Rust".to_string(), u("https://hq.example/tags/rust"))],
            icon: None,
            image: Some(Image::new(u("https://hq.example/media/h.png"), None)),
        });
        assert_eq!(doc["type"], "Person");
        assert_eq!(
            doc["publicKey"]["id"],
            "https://hq.example/users/ada#main-key"
        );
        assert_eq!(doc["publicKey"]["owner"], "https://hq.example/users/ada");
        assert_eq!(doc["endpoints"]["sharedInbox"], "https://hq.example/inbox");
        assert_eq!(doc["manuallyApprovesFollowers"], true);
        assert_eq!(doc["attachment"][0]["name"], "Team");
        assert_eq!(doc["discoverable"], false);
        assert_eq!(
            doc["tag"],
            json!([{"type": "Hashtag", "name": "#Rust", "href": "https://hq.example/tags/rust"}])
        );
        assert!(doc.get("icon").is_none());
        assert_eq!(doc["image"]["url"], "https://hq.example/media/h.png");
    }
}
