//! What we put on the wire, as typed documents: notes, tombstones, activities, collections and
//! the small actor documents. The node fills these from its rows (in its `convert` layer) and
//! serialises them; nothing else in the node writes AS2 JSON by hand.
//!
//! Reading what peers send stays tolerant and lives in [`crate::activities`]; [`Inbound`] is the
//! typed envelope every received activity is dispatched on.

use serde::Serialize;
use serde_json::Value;

use crate::activities::{id_of, ids, type_of, ParseError};

/// The `@context` we send with activities and notes.
pub fn context() -> Value {
    serde_json::json!([
        crate::AS_CONTEXT,
        crate::SECURITY_CONTEXT,
        {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag", "toot": "http://joinmastodon.org/ns#",
         "votersCount": "toot:votersCount"}
    ])
}

/// A tag on a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Tag {
    Mention { href: String, name: String },
    Hashtag { href: String, name: String },
}

/// A media attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(rename = "type")]
    pub kind: DocumentKind,
    pub media_type: String,
    pub url: String,
    pub name: Option<String>,
    pub width: i64,
    pub height: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DocumentKind {
    Document,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoteKind {
    Note,
    /// A status with a poll.
    Question,
}

/// One answer of a Question, with the votes it has had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollChoice {
    #[serde(rename = "type")]
    pub kind: NoteKind,
    pub name: String,
    pub replies: TotalItems,
}

impl PollChoice {
    pub fn new(name: String, votes: i64) -> PollChoice {
        PollChoice {
            kind: NoteKind::Note,
            name,
            replies: TotalItems {
                kind: CountKind::Collection,
                total_items: votes,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CountKind {
    Collection,
}

/// A count without items (`replies` of a poll's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalItems {
    #[serde(rename = "type")]
    pub kind: CountKind,
    pub total_items: i64,
}

/// A vote on a peer's poll, as Mastodon sends it: a Note whose `name` is the answer chosen,
/// in reply to the Question, addressed to its author only. One per answer chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollVote {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: NoteKind,
    pub name: String,
    pub attributed_to: String,
    pub to: Vec<String>,
    pub in_reply_to: String,
}

/// A status as a Note, as Mastodon-class peers read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: NoteKind,
    pub attributed_to: String,
    pub content: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub in_reply_to: Option<String>,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub url: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub tag: Vec<Tag>,
    pub attachment: Vec<Document>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_map: Option<std::collections::BTreeMap<String, String>>,
    /// FEP-1b12: the group the note was posted into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// What the author typed (user exports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// A Question's answers: `oneOf` for a single choice, `anyOf` for several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<PollChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<PollChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// When the poll ended, once it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content: String,
    pub media_type: &'static str,
}

impl Note {
    /// The note as a standalone document (served on a signed GET).
    pub fn with_context(mut self) -> Note {
        self.context = Some(context());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TombstoneKind {
    Tombstone,
}

/// What a deleted object's id answers (with 410), and what a Delete carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tombstone {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<&'static str>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: TombstoneKind,
}

impl Tombstone {
    pub fn new(id: String) -> Tombstone {
        Tombstone {
            context: None,
            id,
            kind: TombstoneKind::Tombstone,
        }
    }
}

/// The activity types this node understands, sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ActivityKind {
    Follow,
    Accept,
    Reject,
    Create,
    Update,
    Delete,
    Like,
    Announce,
    Undo,
    Block,
    Add,
    Remove,
    /// A report, forwarded to the reported account's node.
    Flag,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 13] = [
        ActivityKind::Follow,
        ActivityKind::Accept,
        ActivityKind::Reject,
        ActivityKind::Create,
        ActivityKind::Update,
        ActivityKind::Delete,
        ActivityKind::Like,
        ActivityKind::Announce,
        ActivityKind::Undo,
        ActivityKind::Block,
        ActivityKind::Add,
        ActivityKind::Remove,
        ActivityKind::Flag,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Follow => "Follow",
            ActivityKind::Accept => "Accept",
            ActivityKind::Reject => "Reject",
            ActivityKind::Create => "Create",
            ActivityKind::Update => "Update",
            ActivityKind::Delete => "Delete",
            ActivityKind::Like => "Like",
            ActivityKind::Announce => "Announce",
            ActivityKind::Undo => "Undo",
            ActivityKind::Block => "Block",
            ActivityKind::Add => "Add",
            ActivityKind::Remove => "Remove",
            ActivityKind::Flag => "Flag",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What an activity acts on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// By reference.
    Id(String),
    /// Several by reference (a Flag's account and statuses).
    Ids(Vec<String>),
    Note(Box<Note>),
    Tombstone(Tombstone),
    /// An activity inside an activity (Undo of a Follow, Accept of a Follow, ...).
    Activity(Box<Activity>),
    /// An actor document (Update of a profile).
    Actor(Box<Value>),
    /// fika's announcement, or a node's counts of it (`crate::announcements`).
    Announcement(Box<crate::announcements::Announcement>),
    AnnouncementCounts(Box<crate::announcements::AnnouncementCounts>),
    /// A vote on a peer's poll.
    Vote(Box<PollVote>),
    /// A node's weekly aggregates (`crate::insights`).
    WeeklyAggregates(Box<crate::insights::WeeklyAggregates>),
}

/// An activity we send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// Absent only on the embedded Follow an Accept answers when we never learned its id.
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    pub actor: String,
    pub object: Object,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// The collection an Add or Remove changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A Flag's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl Activity {
    /// A top-level activity (with `@context`).
    pub fn new(kind: ActivityKind, id: String, actor: String, object: Object) -> Activity {
        Activity {
            context: Some(context()),
            id: Some(id),
            kind,
            actor,
            object,
            to: vec![],
            cc: vec![],
            published: None,
            target: None,
            content: None,
        }
    }

    /// An Add or Remove of `object` in the collection `target`.
    pub fn targeting(mut self, target: String) -> Activity {
        self.target = Some(target);
        self
    }

    /// The same activity embedded in another (no `@context`).
    pub fn embedded(mut self) -> Activity {
        self.context = None;
        self
    }

    pub fn addressed(mut self, to: Vec<String>, cc: Vec<String>) -> Activity {
        self.to = to;
        self.cc = cc;
        self
    }

    pub fn published(mut self, at: String) -> Activity {
        self.published = Some(at);
        self
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("activities serialise")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CollectionKind {
    OrderedCollection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CollectionPageKind {
    OrderedCollectionPage,
}

/// A collection's head: its size and where its first page is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    #[serde(rename = "@context")]
    pub context: &'static str,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: CollectionKind,
    pub total_items: i64,
    pub first: String,
}

impl Collection {
    pub fn new(id: String, total_items: i64) -> Collection {
        Collection {
            context: crate::AS_CONTEXT,
            first: format!("{id}?page=1"),
            id,
            kind: CollectionKind::OrderedCollection,
            total_items,
        }
    }
}

/// One numbered page of a collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionPage {
    #[serde(rename = "@context")]
    pub context: &'static str,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: CollectionPageKind,
    pub part_of: String,
    pub total_items: i64,
    pub ordered_items: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl CollectionPage {
    /// Page `page` (from 1) of `size` items of the collection `base` holding `total` items.
    pub fn new(
        base: &str,
        page: i64,
        size: i64,
        total: i64,
        ordered_items: Vec<Value>,
    ) -> CollectionPage {
        CollectionPage {
            context: crate::AS_CONTEXT,
            id: format!("{base}?page={page}"),
            kind: CollectionPageKind::OrderedCollectionPage,
            part_of: base.to_string(),
            total_items: total,
            ordered_items,
            next: (page * size < total).then(|| format!("{base}?page={}", page + 1)),
            prev: (page > 1).then(|| format!("{base}?page={}", page - 1)),
        }
    }
}

/// A received activity, checked for shape: a known type, an id, an actor, and its object as a
/// reference or an embedded document. Dispatch in the node is a `match` on `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub kind: ActivityKind,
    pub id: String,
    pub actor: String,
    pub object: InboundObject,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The whole document, for the parts one kind reads that others do not.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundObject {
    /// Only an id.
    Id(String),
    /// An embedded object or activity, with its id (if any) and type.
    Embedded {
        id: Option<String>,
        kind: Option<String>,
        value: Value,
    },
}

impl InboundObject {
    pub fn id(&self) -> Option<&str> {
        match self {
            InboundObject::Id(id) => Some(id),
            InboundObject::Embedded { id, .. } => id.as_deref(),
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            InboundObject::Id(_) => None,
            InboundObject::Embedded { kind, .. } => kind.as_deref(),
        }
    }

    /// The embedded document, or the bare id as a JSON string.
    pub fn value(&self) -> Value {
        match self {
            InboundObject::Id(id) => Value::String(id.clone()),
            InboundObject::Embedded { value, .. } => value.clone(),
        }
    }
}

/// Why a received activity cannot be handled at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("activity has no id")]
    NoId,
    #[error("activity has no actor")]
    NoActor,
    #[error("activity has no type")]
    NoType,
    #[error("unsupported activity type {0:?}")]
    Unsupported(String),
    #[error("{0} without object")]
    NoObject(&'static str),
    #[error(transparent)]
    Field(#[from] ParseError),
}

pub fn parse_inbound(v: &Value) -> Result<Inbound, InboundError> {
    let kind = type_of(v).ok_or(InboundError::NoType)?;
    let kind = ActivityKind::parse(kind).ok_or_else(|| InboundError::Unsupported(kind.into()))?;
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or(InboundError::NoId)?
        .to_string();
    let actor = v
        .get("actor")
        .and_then(id_of)
        .ok_or(InboundError::NoActor)?
        .to_string();
    let object = match v.get("object") {
        Some(Value::String(s)) => InboundObject::Id(s.clone()),
        Some(o @ Value::Object(_)) => InboundObject::Embedded {
            id: id_of(o).map(String::from),
            kind: type_of(o).map(String::from),
            value: o.clone(),
        },
        // A Flag names the account and its statuses (Mastodon's shape).
        Some(a @ Value::Array(items)) if kind == ActivityKind::Flag && !items.is_empty() => {
            InboundObject::Embedded {
                id: items.first().and_then(id_of).map(String::from),
                kind: None,
                value: a.clone(),
            }
        }
        _ => return Err(InboundError::NoObject(kind.as_str())),
    };
    Ok(Inbound {
        kind,
        id,
        actor,
        object,
        to: ids(v.get("to")),
        cc: ids(v.get("cc")),
        raw: v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn activities_serialise_as_peers_expect() {
        let follow = Activity::new(
            ActivityKind::Follow,
            "https://a.example/users/x#follows/1".into(),
            "https://a.example/users/x".into(),
            Object::Id("https://b.example/users/y".into()),
        )
        .addressed(vec!["https://b.example/users/y".into()], vec![]);
        let v = follow.to_json();
        assert_eq!(v["type"], "Follow");
        assert_eq!(v["object"], "https://b.example/users/y");
        assert!(v.get("cc").is_none(), "empty addressing is left out");
        assert!(v["@context"].is_array());

        let undo = Activity::new(
            ActivityKind::Undo,
            "https://a.example/users/x#undo/2".into(),
            "https://a.example/users/x".into(),
            Object::Activity(Box::new(follow.embedded())),
        );
        let v = undo.to_json();
        assert_eq!(v["object"]["type"], "Follow");
        assert!(v["object"].get("@context").is_none());

        let delete = Activity::new(
            ActivityKind::Delete,
            "https://a.example/s/1#delete".into(),
            "https://a.example/users/x".into(),
            Object::Tombstone(Tombstone::new("https://a.example/s/1".into())),
        );
        assert_eq!(
            delete.to_json()["object"],
            json!({"id": "https://a.example/s/1", "type": "Tombstone"})
        );
    }

    #[test]
    fn pages_link_their_neighbours() {
        let p =
            serde_json::to_value(CollectionPage::new("https://a/c", 2, 10, 25, vec![])).unwrap();
        assert_eq!(p["type"], "OrderedCollectionPage");
        assert_eq!(p["next"], "https://a/c?page=3");
        assert_eq!(p["prev"], "https://a/c?page=1");
        let last =
            serde_json::to_value(CollectionPage::new("https://a/c", 3, 10, 25, vec![])).unwrap();
        assert!(last.get("next").is_none());
        let head = serde_json::to_value(Collection::new("https://a/c".into(), 25)).unwrap();
        assert_eq!(head["first"], "https://a/c?page=1");
        assert_eq!(head["totalItems"], 25);
    }

    #[test]
    fn inbound_activities_are_typed_or_refused() {
        let a = parse_inbound(&json!({
            "id": "https://b/1", "type": "Announce", "actor": {"id": "https://b/u"},
            "object": {"id": "https://c/n", "type": "Note"}, "to": "as:Public"
        }))
        .unwrap();
        assert_eq!(a.kind, ActivityKind::Announce);
        assert_eq!(a.actor, "https://b/u");
        assert_eq!(a.object.id(), Some("https://c/n"));
        assert_eq!(a.object.kind(), Some("Note"));
        assert_eq!(a.to, vec!["as:Public"]);
        assert_eq!(
            parse_inbound(&json!({"id": "x", "type": "Move", "actor": "a", "object": "b"})),
            Err(InboundError::Unsupported("Move".into()))
        );
        assert_eq!(
            parse_inbound(&json!({"id": "x", "type": "Like", "actor": "a"})),
            Err(InboundError::NoObject("Like"))
        );
        assert_eq!(
            parse_inbound(&json!({"type": "Like", "actor": "a", "object": "b"})),
            Err(InboundError::NoId)
        );
    }
}
