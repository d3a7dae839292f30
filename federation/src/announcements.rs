//! fika's announcements on the wire: a documented extension type that other servers ignore.
//!
//! An organisation-wide announcement travels as `Create`, `Update` (an edit, or a reminder) and
//! `Delete` (withdrawn) of an `Announcement` (`urn:fika:ns#Announcement`), signed by the author
//! and sent to the peers that accept announcements from its node. Each receiving node reports
//! back aggregates only: an `Update` of `AnnouncementCounts` (members reached, read, reactions
//! per emoji), signed by the node's own actor. Mastodon and other servers drop a `Create` or
//! `Update` of an object type they do not know, so nothing reaches them by accident.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The vocabulary's IRI; terms below are `fika:NAME`.
pub const NAMESPACE: &str = "urn:fika:ns#";
pub const ANNOUNCEMENT: &str = "Announcement";
pub const COUNTS: &str = "AnnouncementCounts";

/// The JSON-LD context of both documents.
pub fn context() -> Value {
    json!([
        crate::AS_CONTEXT,
        {
            "fika": NAMESPACE,
            "Announcement": "fika:Announcement",
            "AnnouncementCounts": "fika:AnnouncementCounts",
            "allDay": "fika:allDay",
            "reminder": {"@id": "fika:reminder", "@type": "xsd:dateTime"},
            "announcement": {"@id": "fika:announcement", "@type": "@id"},
            "reached": "fika:reached",
            "read": "fika:read",
            "reactions": {"@id": "fika:reactions", "@container": "@index"},
            "xsd": "http://www.w3.org/2001/XMLSchema#"
        }
    ])
}

/// An announcement as its origin publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Who published it (an account of the origin node).
    pub attributed_to: String,
    /// The origin node's name, which receiving nodes show it under.
    #[serde(default)]
    pub name: String,
    /// HTML.
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_map: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default)]
    pub all_day: bool,
    pub published: String,
    pub updated: String,
    /// Set when the origin asks every node to remind those who have not read it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<String>,
}

/// What a receiving node reports to the origin about one announcement: aggregates only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnouncementCounts {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The announcement's id.
    pub announcement: String,
    /// Members of the reporting node it was shown to.
    pub reached: i64,
    /// Members who dismissed it.
    pub read: i64,
    /// Reaction name to how many members reacted so.
    #[serde(default)]
    pub reactions: BTreeMap<String, i64>,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnouncementError {
    #[error("not a fika announcement document: {0}")]
    Shape(String),
    #[error("{0}")]
    Value(&'static str),
}

pub fn parse_announcement(v: &Value) -> Result<Announcement, AnnouncementError> {
    let a: Announcement =
        serde_json::from_value(v.clone()).map_err(|e| AnnouncementError::Shape(e.to_string()))?;
    if a.kind != ANNOUNCEMENT {
        return Err(AnnouncementError::Value("type must be Announcement"));
    }
    if a.content.trim().is_empty() {
        return Err(AnnouncementError::Value("an announcement needs content"));
    }
    Ok(a)
}

pub fn parse_counts(v: &Value) -> Result<AnnouncementCounts, AnnouncementError> {
    let c: AnnouncementCounts =
        serde_json::from_value(v.clone()).map_err(|e| AnnouncementError::Shape(e.to_string()))?;
    if c.kind != COUNTS {
        return Err(AnnouncementError::Value("type must be AnnouncementCounts"));
    }
    if c.reached < 0 || c.read < 0 || c.read > c.reached || c.reactions.values().any(|n| *n < 0) {
        return Err(AnnouncementError::Value(
            "counts must be non-negative, with no more read than reached",
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_bad_ones_are_refused() {
        let a = Announcement {
            context: Some(context()),
            id: "https://a.example/announcements/1".into(),
            kind: ANNOUNCEMENT.into(),
            attributed_to: "https://a.example/users/hr".into(),
            name: "hq".into(),
            content: "<p>Office closed Friday</p>".into(),
            content_map: None,
            start_time: None,
            end_time: Some("2026-12-24T00:00:00Z".into()),
            all_day: true,
            published: "2026-12-01T00:00:00Z".into(),
            updated: "2026-12-01T00:00:00Z".into(),
            reminder: None,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "Announcement");
        assert_eq!(v["endTime"], "2026-12-24T00:00:00Z");
        assert_eq!(parse_announcement(&v).unwrap(), a);
        let mut note = v.clone();
        note["type"] = json!("Note");
        assert!(parse_announcement(&note).is_err());
        assert!(parse_announcement(&json!({"type": "Announcement"})).is_err());

        let counts = json!({"id": "https://b.example/x", "type": "AnnouncementCounts",
            "announcement": a.id, "reached": 3, "read": 2, "reactions": {"👍": 1},
            "updated": "2026-12-01T00:00:01Z"});
        assert_eq!(parse_counts(&counts).unwrap().reactions["👍"], 1);
        let mut more_read = counts.clone();
        more_read["read"] = json!(4);
        assert!(parse_counts(&more_read).is_err());
    }
}
