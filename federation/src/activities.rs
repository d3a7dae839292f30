//! Reading ActivityStreams documents peers send, tolerantly: ids or embedded objects, strings or
//! arrays, three spellings of "public". What we send is typed in [`crate::protocol`].

use serde_json::Value;

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// `as:Public`, `Public` and the full IRI all mean the public collection.
pub fn is_public(iri: &str) -> bool {
    iri == PUBLIC || iri == "as:Public" || iri == "Public"
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("missing or invalid field {0}")]
    Field(&'static str),
}

/// The id of a value that is either an IRI string or an object with an `id`.
pub fn id_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

pub fn type_of(v: &Value) -> Option<&str> {
    match v.get("type")? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.first().and_then(Value::as_str),
        _ => None,
    }
}

/// A string-or-array field as a list of ids.
pub fn ids(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().filter_map(id_of).map(String::from).collect(),
        Some(other) => id_of(other)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
    }
}

/// An actor as peers publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteActor {
    pub id: String,
    pub kind: String,
    pub preferred_username: String,
    pub name: String,
    pub summary: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers: Option<String>,
    pub url: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub manually_approves_followers: bool,
    pub icon: Option<String>,
    pub image: Option<String>,
    /// Mastodon's `toot:discoverable`; absent means not discoverable.
    pub discoverable: bool,
    /// `PropertyValue` attachments: (name, value as sent, often HTML).
    pub fields: Vec<(String, String)>,
    /// Hashtags in `tag`, without the `#`: the profile's featured tags.
    pub hashtags: Vec<String>,
}

fn str_field<'a>(v: &'a Value, name: &'static str) -> Result<&'a str, ParseError> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or(ParseError::Field(name))
}

fn image_url(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(|i| image_url(Some(i))),
        obj => match obj.get("url")? {
            Value::String(s) => Some(s.clone()),
            other => id_of(other)
                .map(String::from)
                .or_else(|| other.get("href").and_then(Value::as_str).map(String::from)),
        },
    }
}

pub fn parse_actor(v: &Value) -> Result<RemoteActor, ParseError> {
    let key = v.get("publicKey").ok_or(ParseError::Field("publicKey"))?;
    let key = match key {
        Value::Array(a) => a.first().ok_or(ParseError::Field("publicKey"))?,
        k => k,
    };
    Ok(RemoteActor {
        id: str_field(v, "id")?.to_string(),
        kind: type_of(v).unwrap_or("Person").to_string(),
        preferred_username: str_field(v, "preferredUsername")?.to_string(),
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        summary: v
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        inbox: str_field(v, "inbox")?.to_string(),
        shared_inbox: v
            .get("endpoints")
            .and_then(|e| e.get("sharedInbox"))
            .and_then(Value::as_str)
            .map(String::from),
        followers: v.get("followers").and_then(id_of).map(String::from),
        url: v
            .get("url")
            .and_then(|u| match u {
                Value::Array(a) => a.first().and_then(id_of),
                other => id_of(other).or_else(|| other.get("href").and_then(Value::as_str)),
            })
            .map(String::from),
        key_id: str_field(key, "id")?.to_string(),
        public_key_pem: str_field(key, "publicKeyPem")?.to_string(),
        manually_approves_followers: v
            .get("manuallyApprovesFollowers")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        icon: image_url(v.get("icon")),
        image: image_url(v.get("image")),
        discoverable: v
            .get("discoverable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        fields: objects(v.get("attachment"))
            .filter(|a| type_of(a) == Some("PropertyValue"))
            .filter_map(|a| {
                let name = a.get("name")?.as_str()?;
                let value = a.get("value").and_then(Value::as_str).unwrap_or("");
                Some((name.to_string(), value.to_string()))
            })
            .collect(),
        hashtags: objects(v.get("tag"))
            .filter(|t| type_of(t) == Some("Hashtag"))
            .filter_map(|t| t.get("name")?.as_str())
            .map(|n| n.trim_start_matches('#').to_string())
            .filter(|n| !n.is_empty())
            .collect(),
    })
}

/// The objects of a field that holds one object or an array of them.
fn objects(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let items: &[Value] = match v {
        Some(Value::Array(a)) => a,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => &[],
    };
    items.iter()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub url: String,
    pub media_type: Option<String>,
    pub name: Option<String>,
}

/// A Note as peers send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: String,
    pub attributed_to: String,
    pub content: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub in_reply_to: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub url: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Mentioned actor ids.
    pub mentions: Vec<String>,
    /// Hashtag names without `#`.
    pub hashtags: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub language: Option<String>,
    /// FEP-1b12 `audience`: the group a post was made in.
    pub audience: Vec<String>,
    /// A Note's `name`: on a Note with no content in reply to a Question, the answer voted for.
    pub name: Option<String>,
    /// A Question's poll.
    pub poll: Option<PollFacts>,
}

/// A Question's answers and counts as its node reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollFacts {
    /// `anyOf` (several answers may be chosen) rather than `oneOf`.
    pub multiple: bool,
    /// Each answer's name and its votes (`replies.totalItems`).
    pub options: Vec<(String, i64)>,
    pub end_time: Option<String>,
    pub closed: Option<String>,
    pub voters_count: Option<i64>,
}

impl Note {
    /// A vote: a Note with a `name`, no content and a parent (the Question).
    pub fn is_vote(&self) -> bool {
        self.name.is_some() && self.content.trim().is_empty() && self.in_reply_to.is_some()
    }
}

fn parse_poll(v: &Value) -> Option<PollFacts> {
    let (choices, multiple) = match (v.get("oneOf"), v.get("anyOf")) {
        (Some(Value::Array(a)), _) => (a, false),
        (_, Some(Value::Array(a))) => (a, true),
        _ => return None,
    };
    let options = choices
        .iter()
        .filter_map(|c| {
            let name = c.get("name")?.as_str()?.to_string();
            let votes = c
                .get("replies")
                .and_then(|r| r.get("totalItems"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .max(0);
            Some((name, votes))
        })
        .collect();
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Some(PollFacts {
        multiple,
        options,
        end_time: text("endTime"),
        closed: text("closed"),
        voters_count: v
            .get("votersCount")
            .and_then(Value::as_i64)
            .map(|n| n.max(0)),
    })
}

pub fn parse_note(v: &Value) -> Result<Note, ParseError> {
    let kind = type_of(v).ok_or(ParseError::Field("type"))?;
    if !matches!(kind, "Note" | "Article" | "Page" | "Question") {
        return Err(ParseError::Field("type"));
    }
    let mut mentions = Vec::new();
    let mut hashtags = Vec::new();
    let tags = match v.get("tag") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(_)) => vec![v["tag"].clone()],
        _ => vec![],
    };
    for t in &tags {
        match type_of(t) {
            Some("Mention") => {
                if let Some(h) = t.get("href").and_then(Value::as_str) {
                    mentions.push(h.to_string());
                }
            }
            Some("Hashtag") => {
                if let Some(n) = t.get("name").and_then(Value::as_str) {
                    hashtags.push(n.trim_start_matches('#').to_string());
                }
            }
            _ => {}
        }
    }
    let attachments = match v.get("attachment") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => vec![],
    }
    .iter()
    .filter_map(|a| {
        Some(Attachment {
            url: match a.get("url")? {
                Value::String(s) => s.clone(),
                other => other.get("href").and_then(Value::as_str)?.to_string(),
            },
            media_type: a.get("mediaType").and_then(Value::as_str).map(String::from),
            name: a.get("name").and_then(Value::as_str).map(String::from),
        })
    })
    .collect();
    let language = v
        .get("contentMap")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next().cloned());
    Ok(Note {
        id: str_field(v, "id")?.to_string(),
        attributed_to: v
            .get("attributedTo")
            .map(|a| ids(Some(a)))
            .and_then(|a| a.into_iter().next())
            .ok_or(ParseError::Field("attributedTo"))?,
        content: v
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        summary: v
            .get("summary")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from),
        sensitive: v.get("sensitive").and_then(Value::as_bool).unwrap_or(false),
        in_reply_to: v.get("inReplyTo").and_then(id_of).map(String::from),
        published: v.get("published").and_then(Value::as_str).map(String::from),
        updated: v.get("updated").and_then(Value::as_str).map(String::from),
        url: v
            .get("url")
            .and_then(|u| match u {
                Value::Array(a) => a.first().and_then(id_of),
                other => id_of(other).or_else(|| other.get("href").and_then(Value::as_str)),
            })
            .map(String::from),
        to: ids(v.get("to")),
        cc: ids(v.get("cc")),
        mentions,
        hashtags,
        attachments,
        language,
        audience: ids(v.get("audience")),
        name: v
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from),
        poll: (kind == "Question").then(|| parse_poll(v)).flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_notes_as_mastodon_sends_them() {
        let v = json!({
            "id": "https://m.example/users/a/statuses/1", "type": "Note",
            "attributedTo": "https://m.example/users/a",
            "content": "<p>hi</p>", "summary": "cw", "sensitive": true,
            "inReplyTo": "https://f.example/users/b/statuses/9",
            "to": "https://www.w3.org/ns/activitystreams#Public",
            "cc": ["https://m.example/users/a/followers"],
            "tag": [{"type": "Mention", "href": "https://f.example/users/b", "name": "@b@f.example"},
                    {"type": "Hashtag", "href": "https://m.example/tags/x", "name": "#x"}],
            "attachment": [{"type": "Document", "mediaType": "image/png", "url": "https://m.example/m.png", "name": "alt"}],
            "contentMap": {"de": "<p>hi</p>"}
        });
        let n = parse_note(&v).unwrap();
        assert_eq!(n.to, vec![PUBLIC]);
        assert_eq!(n.mentions, vec!["https://f.example/users/b"]);
        assert_eq!(n.hashtags, vec!["x"]);
        assert_eq!(n.attachments[0].name.as_deref(), Some("alt"));
        assert_eq!(n.language.as_deref(), Some("de"));
        assert!(n.sensitive);
        assert!(parse_note(&json!({"id": "x", "type": "Person"})).is_err());
        assert!(n.poll.is_none() && !n.is_vote());
    }

    #[test]
    fn parses_questions_and_votes() {
        let q = json!({
            "id": "https://m.example/q/1", "type": "Question", "attributedTo": "https://m.example/a",
            "content": "<p>lunch?</p>", "endTime": "2026-12-04T10:00:00Z", "votersCount": 3,
            "anyOf": [{"type": "Note", "name": "soup", "replies": {"type": "Collection", "totalItems": 2}},
                      {"type": "Note", "name": "salad"}]
        });
        let poll = parse_note(&q).unwrap().poll.unwrap();
        assert!(poll.multiple);
        assert_eq!(poll.options, vec![("soup".into(), 2), ("salad".into(), 0)]);
        assert_eq!(poll.voters_count, Some(3));
        let vote = json!({"id": "https://f.example/a#votes/1", "type": "Note", "name": "soup",
            "attributedTo": "https://f.example/a", "inReplyTo": "https://m.example/q/1",
            "to": "https://m.example/a"});
        let vote = parse_note(&vote).unwrap();
        assert!(vote.is_vote() && vote.poll.is_none());
    }

    #[test]
    fn parses_actors_with_and_without_fragments() {
        let v = json!({
            "id": "https://g.example/users/x", "type": "Person", "preferredUsername": "x",
            "inbox": "https://g.example/users/x/inbox",
            "publicKey": {"id": "https://g.example/users/x/main-key", "owner": "https://g.example/users/x", "publicKeyPem": "PEM"},
            "icon": {"type": "Image", "url": "https://g.example/a.png"}
        });
        let a = parse_actor(&v).unwrap();
        assert_eq!(a.key_id, "https://g.example/users/x/main-key");
        assert_eq!(a.shared_inbox, None);
        assert_eq!(a.icon.as_deref(), Some("https://g.example/a.png"));
        assert!(parse_actor(&json!({"id": "x"})).is_err());
        assert!(!a.discoverable && a.fields.is_empty() && a.hashtags.is_empty());
    }

    #[test]
    fn actors_carry_discoverable_fields_and_featured_tags() {
        let v = json!({
            "id": "https://g.example/users/x", "type": "Person", "preferredUsername": "x",
            "inbox": "https://g.example/users/x/inbox", "discoverable": true,
            "publicKey": {"id": "https://g.example/users/x#main-key", "publicKeyPem": "PEM"},
            "attachment": [{"type": "PropertyValue", "name": "Skills", "value": "terraform"},
                           {"type": "Image", "url": "https://g.example/i.png"}],
            "tag": {"type": "Hashtag", "name": "#Rust", "href": "https://g.example/tags/rust"}
        });
        let a = parse_actor(&v).unwrap();
        assert!(a.discoverable);
        assert_eq!(a.fields, vec![("Skills".into(), "terraform".into())]);
        assert_eq!(a.hashtags, vec!["Rust"]);
    }

    #[test]
    fn group_actors_and_notes_posted_into_groups() {
        let group = json!({
            "id": "https://g.example/groups/crew", "type": "Group", "preferredUsername": "crew",
            "inbox": "https://g.example/groups/crew/inbox", "manuallyApprovesFollowers": true,
            "publicKey": {"id": "https://g.example/groups/crew#key", "publicKeyPem": "PEM"}
        });
        let a = parse_actor(&group).unwrap();
        assert_eq!(a.kind, "Group");
        assert!(a.manually_approves_followers);
        // A Group that cannot be followed or verified is refused, whatever else it says.
        for missing in ["inbox", "publicKey", "preferredUsername", "id"] {
            let mut broken = group.clone();
            broken.as_object_mut().unwrap().remove(missing);
            assert!(parse_actor(&broken).is_err(), "{missing}");
        }
        let note = json!({
            "id": "https://m.example/n/1", "type": "Note", "attributedTo": "https://m.example/u/a",
            "content": "hi", "audience": "https://g.example/groups/crew"
        });
        assert_eq!(
            parse_note(&note).unwrap().audience,
            vec!["https://g.example/groups/crew"]
        );
    }
}
