//! fika's weekly aggregates on the wire: what one node tells the other nodes of its
//! organisation about a week, counts only.
//!
//! A node sends `Create` (first time) or `Update` (recomputed) of a `WeeklyAggregates`
//! (`urn:fika:ns#WeeklyAggregates`), signed by its own node actor, to each of its `org` peers.
//! The document carries: the week (its Monday, a date), the threshold below which the sender
//! left counts out, the sender's active users and those of them with an interaction across
//! nodes, interactions between the sender's users and each org node's users in both directions
//! (the sender itself included: interactions inside the node), and hashtags with how often and
//! by how many of its users they were used. No field names or identifies a person or a post:
//! peers are node host names, hashtags are hashtag names, everything else is a count. A count
//! below the threshold is absent, never sent (a receiver refuses a document carrying one).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const WEEKLY_AGGREGATES: &str = "WeeklyAggregates";

/// The JSON-LD context of the document (terms in fika's vocabulary, `urn:fika:ns#`).
pub fn context() -> Value {
    json!([
        crate::AS_CONTEXT,
        {
            "fika": crate::announcements::NAMESPACE,
            "WeeklyAggregates": "fika:WeeklyAggregates",
            "week": {"@id": "fika:week", "@type": "xsd:date"},
            "threshold": "fika:threshold",
            "activeUsers": "fika:activeUsers",
            "crossNodeActiveUsers": "fika:crossNodeActiveUsers",
            "interactions": {"@id": "fika:interactions", "@container": "@list"},
            "peer": "fika:peer",
            "sent": "fika:sent",
            "received": "fika:received",
            "sharedGroups": "fika:sharedGroups",
            "hashtags": {"@id": "fika:hashtags", "@container": "@list"},
            "uses": "fika:uses",
            "accounts": "fika:accounts",
            "xsd": "http://www.w3.org/2001/XMLSchema#"
        }
    ])
}

/// Interactions between the sender's users and one node's users in a week. `sent`: by the
/// sender's users towards that node's; `received`: the other way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerInteractions {
    /// The node's host name.
    pub peer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<i64>,
    /// Groups hosted on the sender with members of both nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_groups: Option<i64>,
}

/// One hashtag's use on the sender in a week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashtagUse {
    /// The hashtag's name, without `#`, lower case.
    pub name: String,
    /// Statuses by the sender's users that carried it.
    pub uses: i64,
    /// How many of the sender's users used it.
    pub accounts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklyAggregates {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The sending node's actor.
    pub attributed_to: String,
    /// The week's Monday, `YYYY-MM-DD` (weeks run Monday 00:00 to Monday 00:00 UTC).
    pub week: String,
    pub threshold: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_users: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_node_active_users: Option<i64>,
    #[serde(default)]
    pub interactions: Vec<PeerInteractions>,
    #[serde(default)]
    pub hashtags: Vec<HashtagUse>,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregatesError {
    #[error("not a fika weekly aggregates document: {0}")]
    Shape(String),
    #[error("{0}")]
    Value(String),
}

fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split(':').count() <= 2
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// `YYYY-MM-DD` with a plausible month and day (the node checks the calendar).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Reads and checks a received document: its type, a date for the week, host names for peers,
/// and no count below the document's own threshold (nor below `min_threshold`, the receiver's:
/// a sender that suppresses less than the receiver wants is refused, not trusted).
pub fn parse(v: &Value, min_threshold: i64) -> Result<WeeklyAggregates, AggregatesError> {
    let doc: WeeklyAggregates =
        serde_json::from_value(v.clone()).map_err(|e| AggregatesError::Shape(e.to_string()))?;
    if doc.kind != WEEKLY_AGGREGATES {
        return Err(AggregatesError::Value(
            "type must be WeeklyAggregates".into(),
        ));
    }
    if !is_date(&doc.week) {
        return Err(AggregatesError::Value(format!(
            "week {:?} is not a date",
            doc.week
        )));
    }
    if doc.threshold < min_threshold.max(1) {
        return Err(AggregatesError::Value(format!(
            "threshold {} is below {}",
            doc.threshold,
            min_threshold.max(1)
        )));
    }
    let small = |n: Option<i64>| n.is_some_and(|n| n < doc.threshold);
    if small(doc.active_users) || small(doc.cross_node_active_users) {
        return Err(AggregatesError::Value(
            "a user count below the threshold".into(),
        ));
    }
    for p in &doc.interactions {
        if !is_host(&p.peer) {
            return Err(AggregatesError::Value(format!(
                "peer {:?} is not a host name",
                p.peer
            )));
        }
        if small(p.sent) || small(p.received) || small(p.shared_groups) {
            return Err(AggregatesError::Value(format!(
                "an interaction count with {} below the threshold",
                p.peer
            )));
        }
    }
    for t in &doc.hashtags {
        if t.uses < doc.threshold || t.accounts < doc.threshold {
            return Err(AggregatesError::Value(format!(
                "hashtag {:?} with counts below the threshold",
                t.name
            )));
        }
    }
    Ok(doc)
}

/// A count as shared: left out below the threshold.
pub fn suppress(n: i64, threshold: i64) -> Option<i64> {
    (n >= threshold).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> WeeklyAggregates {
        WeeklyAggregates {
            context: Some(context()),
            id: "https://a.example/insights/weeks/2026-11-30".into(),
            kind: WEEKLY_AGGREGATES.into(),
            attributed_to: "https://a.example/actor".into(),
            week: "2026-11-30".into(),
            threshold: 5,
            active_users: Some(12),
            cross_node_active_users: None,
            interactions: vec![PeerInteractions {
                peer: "b.example".into(),
                sent: Some(7),
                received: None,
                shared_groups: None,
            }],
            hashtags: vec![HashtagUse {
                name: "rust".into(),
                uses: 9,
                accounts: 5,
            }],
            updated: "2026-12-01T10:00:00Z".into(),
        }
    }

    #[test]
    fn documents_round_trip_and_unsuppressed_ones_are_refused() {
        let v = serde_json::to_value(doc()).unwrap();
        assert_eq!(v["type"], "WeeklyAggregates");
        assert_eq!(v["activeUsers"], 12);
        assert!(v.get("crossNodeActiveUsers").is_none());
        assert!(v["interactions"][0].get("received").is_none());
        assert_eq!(parse(&v, 5).unwrap(), doc());

        let mut low = doc();
        low.interactions[0].sent = Some(3);
        let low = serde_json::to_value(low).unwrap();
        assert!(parse(&low, 5).is_err());

        let mut weak = doc();
        weak.threshold = 2;
        assert!(parse(&serde_json::to_value(weak).unwrap(), 5).is_err());

        let mut named = serde_json::to_value(doc()).unwrap();
        named["interactions"][0]["account"] = json!("https://b.example/users/x");
        assert!(parse(&named, 5).is_err(), "unknown fields are refused");

        let mut peer = doc();
        peer.interactions[0].peer = "https://b.example/users/x".into();
        assert!(parse(&serde_json::to_value(peer).unwrap(), 5).is_err());

        let mut week = doc();
        week.week = "last week".into();
        assert!(parse(&serde_json::to_value(week).unwrap(), 5).is_err());

        assert_eq!(suppress(4, 5), None);
        assert_eq!(suppress(5, 5), Some(5));
    }
}
