//! Stored rows to AS2 documents.

use fika_federation::actor::{person, Image, LocalActor};
use fika_federation::protocol::{
    Activity, ActivityKind, Document, DocumentKind, Note, NoteKind, Object, PollChoice, PollVote,
    Source, Tag,
};
use serde_json::Value;

use super::{
    rfc3339_millis,
    text::{html_to_plain, plain_to_html},
    NodeUrls,
};
use fika_federation::activities::{self, RemoteActor};

use crate::store::accounts::AccountRow;
use crate::store::federation::RemoteAccount;
use crate::store::media::MediaRow;
use crate::store::polls::{PollOption, PollRow};
use crate::store::statuses::StatusRow;

/// An account's AS2 id (remote ones keep theirs; local ones derive it from the domain).
pub fn actor_id(urls: &NodeUrls, account: &AccountRow) -> String {
    match &account.ap_id {
        Some(id) => id.clone(),
        None => urls.actor(&account.username).to_string(),
    }
}

/// What a Note is made of besides its row, gathered by the caller (before or after the status
/// is stored).
pub struct NoteParts<'a> {
    pub mentioned: &'a [AccountRow],
    /// Hashtag spellings.
    pub tags: &'a [String],
    pub media: &'a [MediaRow],
    pub in_reply_to: Option<String>,
    /// The actor id of the group the status was posted into.
    pub audience: Option<String>,
    /// Its poll: the Note is then a Question.
    pub poll: Option<&'a PollRow>,
}

/// The AS2 Note for a status, addressed by its scope: a local one, or a peer's as held here
/// (what a group serves of the posts it announces).
pub fn note(
    urls: &NodeUrls,
    status: &StatusRow,
    author: &AccountRow,
    parts: &NoteParts<'_>,
) -> Note {
    let mention_ids: Vec<String> = parts.mentioned.iter().map(|a| actor_id(urls, a)).collect();
    let followers = match author.is_local() {
        true => urls.followers(&author.username).to_string(),
        false => author.followers_url.clone().unwrap_or_default(),
    };
    let (to, cc) = status.visibility.addressing(&followers, &mention_ids);
    let id = status
        .uri
        .clone()
        .unwrap_or_else(|| urls.status(&author.username, status.id).to_string());
    let url = match author.is_local() {
        true => urls.status_page(&author.username, status.id).to_string(),
        false => status.url.clone().unwrap_or_else(|| id.clone()),
    };
    let mut tag: Vec<Tag> = parts
        .mentioned
        .iter()
        .map(|a| Tag::Mention {
            href: actor_id(urls, a),
            name: if a.is_local() {
                format!("@{}@{}", a.username, urls.domain)
            } else {
                format!("@{}@{}", a.username, a.domain)
            },
        })
        .collect();
    tag.extend(parts.tags.iter().map(|display| Tag::Hashtag {
        href: urls.tag(display).to_string(),
        name: format!("#{display}"),
    }));
    let attachment = parts
        .media
        .iter()
        .map(|m| Document {
            kind: DocumentKind::Document,
            media_type: m.content_type.clone(),
            url: m
                .remote_url
                .clone()
                .unwrap_or_else(|| urls.media(&m.file_name).to_string()),
            name: (!m.description.is_empty()).then(|| m.description.clone()),
            width: m.width,
            height: m.height,
        })
        .collect();
    let choices = parts.poll.map(|p| {
        p.options
            .iter()
            .map(|o| PollChoice::new(o.title.clone(), o.votes_count))
            .collect::<Vec<_>>()
    });
    let multiple = parts.poll.is_some_and(|p| p.multiple);
    let now = crate::store::now_millis();
    Note {
        context: None,
        id,
        kind: match parts.poll {
            Some(_) => NoteKind::Question,
            None => NoteKind::Note,
        },
        one_of: choices.clone().filter(|_| !multiple),
        any_of: choices.filter(|_| multiple),
        end_time: parts.poll.and_then(|p| p.expires_at).map(rfc3339_millis),
        closed: parts
            .poll
            .and_then(|p| p.expires_at)
            .filter(|at| *at <= now)
            .map(rfc3339_millis),
        voters_count: parts.poll.map(|p| p.voters_count),
        attributed_to: actor_id(urls, author),
        content: status.content.clone(),
        summary: (!status.spoiler_text.is_empty()).then(|| status.spoiler_text.clone()),
        sensitive: status.sensitive,
        in_reply_to: parts.in_reply_to.clone(),
        published: rfc3339_millis(status.created_at),
        updated: status.edited_at.map(rfc3339_millis),
        url,
        to,
        cc,
        tag,
        attachment,
        content_map: status
            .language
            .as_ref()
            .map(|lang| [(lang.clone(), status.content.clone())].into()),
        source: None,
        audience: parts.audience.clone(),
    }
}

/// The node's own actor document.
pub fn node_application(urls: &NodeUrls, public_key_pem: &str) -> Value {
    fika_federation::actor::node_application(
        &urls.node_actor(),
        &urls.domain,
        &urls.shared_inbox(),
        public_key_pem,
    )
}

/// A Create or Update of a note, addressed as the note is. Deliveries give each send its own
/// id (`stamp`: an Update per edit); the outbox names the Create after the note.
pub fn note_activity(kind: ActivityKind, note: Note, actor: &str, stamp: Option<i64>) -> Activity {
    let id = match stamp {
        Some(at) => format!("{}#{}/{at}", note.id, kind.as_str().to_lowercase()),
        None => format!("{}/activity", note.id),
    };
    let (to, cc) = (note.to.clone(), note.cc.clone());
    Activity::new(kind, id, actor.to_string(), Object::Note(Box::new(note))).addressed(to, cc)
}

/// The Note as a user export carries it: with what the author typed.
pub fn exported_note(
    urls: &NodeUrls,
    status: &StatusRow,
    author: &AccountRow,
    parts: &NoteParts<'_>,
) -> Note {
    Note {
        source: Some(Source {
            content: status.text.clone(),
            media_type: "text/plain",
        }),
        ..note(urls, status, author, parts)
    }
}

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

/// The Person of a local account; `featured_tags` are its featured hashtags' display names.
pub fn local_person(row: &AccountRow, featured_tags: &[String], urls: &NodeUrls) -> Value {
    let name = &row.username;
    let (id, profile) = (urls.actor(name), urls.profile(name));
    let (inbox, outbox) = (urls.inbox(name), urls.outbox(name));
    let (followers, following) = (urls.followers(name), urls.following(name));
    let shared_inbox = urls.shared_inbox();
    let fields = profile_fields(row);
    let image = |path: &str| (!path.is_empty()).then(|| Image::new(urls.media(path), None));
    let tags: Vec<(String, url::Url)> = featured_tags
        .iter()
        .map(|t| (t.clone(), urls.tag(t)))
        .collect();
    person(&LocalActor {
        kind: if row.is_group { "Group" } else { "Person" },
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
        featured_tags: &tags,
        icon: image(&row.avatar_path),
        image: image(&row.header_path),
    })
}

pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .tags(
            [
                "p",
                "br",
                "a",
                "span",
                "del",
                "pre",
                "code",
                "em",
                "strong",
                "b",
                "i",
                "u",
                "ul",
                "ol",
                "li",
                "blockquote",
            ]
            .into(),
        )
        .link_rel(Some("nofollow noopener noreferrer"))
        .add_tag_attributes("a", ["class", "target"])
        .add_tag_attributes("span", ["class"])
        .clean(html)
        .to_string()
}

/// Profile fields as peers send them (values often HTML), stored as text: at most 16, each part
/// cut to 255 characters.
fn remote_fields(actor: &RemoteActor) -> String {
    let cut = |s: &str| -> String {
        crate::store::profile_index::html_text(s)
            .chars()
            .take(255)
            .collect()
    };
    let fields: Vec<Value> = actor
        .fields
        .iter()
        .take(16)
        .map(|(name, value)| serde_json::json!({"name": cut(name), "value": cut(value)}))
        .collect();
    Value::Array(fields).to_string()
}

/// Featured hashtags a peer publishes: valid names only, first spelling of each, at most
/// [`MAX_FEATURED_TAGS`](crate::store::directory::MAX_FEATURED_TAGS).
fn remote_featured_tags(actor: &RemoteActor) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in actor
        .hashtags
        .iter()
        .filter_map(|t| crate::names::hashtag(t))
    {
        let key = name.to_lowercase();
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, name.to_string()));
        }
    }
    out.truncate(crate::store::directory::MAX_FEATURED_TAGS);
    out
}

pub fn remote_account(actor: &RemoteActor, domain: String) -> RemoteAccount {
    RemoteAccount {
        ap_id: actor.id.clone(),
        username: actor.preferred_username.clone(),
        domain,
        display_name: actor.name.chars().take(100).collect(),
        note_html: sanitize(&actor.summary),
        inbox_url: actor.inbox.clone(),
        shared_inbox_url: actor.shared_inbox.clone(),
        followers_url: actor.followers.clone(),
        profile_url: actor.url.clone(),
        key_id: actor.key_id.clone(),
        public_key_pem: actor.public_key_pem.clone(),
        locked: actor.manually_approves_followers,
        bot: matches!(actor.kind.as_str(), "Service" | "Application"),
        is_group: actor.kind == "Group",
        avatar_url: actor.icon.clone(),
        header_url: actor.image.clone(),
        discoverable: actor.discoverable,
        fields: remote_fields(actor),
        featured_tags: remote_featured_tags(actor),
    }
}

/// What the node decided about a received note before it becomes a row.
pub struct RemoteStatusFacts {
    pub id: i64,
    pub account_id: i64,
    pub scope: crate::domain::audience::Scope,
    /// The parent we hold: its id and its author.
    pub in_reply_to: Option<(i64, i64)>,
    pub created_at: i64,
    /// The group it was posted into, when it names one we know.
    pub group_id: Option<i64>,
}

/// A received Note as a status row: its content sanitised (and its text kept for word
/// search), a summary taken as a content warning (as Mastodon shows it).
pub fn remote_status(note: &activities::Note, facts: RemoteStatusFacts) -> StatusRow {
    let content = sanitize(&note.content);
    StatusRow {
        id: facts.id,
        account_id: facts.account_id,
        uri: Some(note.id.clone()),
        url: note.url.clone(),
        text: html_to_plain(&content),
        content,
        spoiler_text: note.summary.clone().unwrap_or_default(),
        sensitive: note.sensitive || note.summary.is_some(),
        visibility: facts.scope,
        language: note.language.clone(),
        in_reply_to_id: facts.in_reply_to.map(|(id, _)| id),
        in_reply_to_account_id: facts.in_reply_to.map(|(_, account)| account),
        reblog_of_id: None,
        app_name: None,
        app_website: None,
        created_at: facts.created_at,
        edited_at: None,
        // What a peer sends has already left its node.
        locality: crate::domain::audience::Locality::Federated,
        group_id: facts.group_id,
    }
}

/// The poll of a received Question, as its node counts it.
pub fn remote_poll(note: &activities::Note, status_id: i64) -> Option<PollRow> {
    let facts = note.poll.as_ref()?;
    if facts.options.is_empty() {
        return None;
    }
    Some(PollRow {
        status_id,
        expires_at: poll_end(note),
        multiple: facts.multiple,
        hide_totals: false,
        voters_count: facts.voters_count.unwrap_or(0),
        options: facts
            .options
            .iter()
            .map(|(title, votes)| PollOption {
                title: html_to_plain(&sanitize(title)),
                votes_count: *votes,
            })
            .collect(),
    })
}

/// When a received poll ends: `endTime`, or `closed` once it has.
pub fn poll_end(note: &activities::Note) -> Option<i64> {
    let facts = note.poll.as_ref()?;
    facts
        .end_time
        .as_deref()
        .or(facts.closed.as_deref())
        .and_then(millis)
}

/// The Create of one vote on a peer's poll, by `voter`, for the answer `title`: Mastodon's
/// shape (a Note with a `name`, to the poll's author only). `vote_id` makes its id.
pub fn vote_activity(
    urls: &NodeUrls,
    voter: &AccountRow,
    question: &str,
    poll_author: &str,
    title: &str,
    vote_id: i64,
) -> Activity {
    let actor = actor_id(urls, voter);
    let id = format!("{actor}#votes/{vote_id}");
    let vote = PollVote {
        id: id.clone(),
        kind: NoteKind::Note,
        name: title.to_string(),
        attributed_to: actor.clone(),
        to: vec![poll_author.to_string()],
        in_reply_to: question.to_string(),
    };
    Activity::new(
        ActivityKind::Create,
        format!("{id}/activity"),
        actor,
        Object::Vote(Box::new(vote)),
    )
    .addressed(vec![poll_author.to_string()], vec![])
}

/// An edit of a received note, applied to its row.
/// When a remote note was edited: its `updated` (never in the future), or `now` when it has
/// none.
pub fn edit_time(note: &activities::Note, now: i64) -> i64 {
    note.updated
        .as_deref()
        .and_then(millis)
        .map_or(now, |at| at.min(now))
}

pub fn apply_remote_edit(row: &mut StatusRow, note: &activities::Note, edited_at: i64) {
    row.content = sanitize(&note.content);
    row.text = html_to_plain(&row.content);
    row.spoiler_text = note.summary.clone().unwrap_or_default();
    row.sensitive = note.sensitive || note.summary.is_some();
    row.edited_at = Some(edited_at);
}

/// The id of one of this node's announcements on the wire.
pub fn announcement_id(urls: &NodeUrls, id: i64) -> String {
    urls.join(&format!("/announcements/{id}")).to_string()
}

/// One of this node's announcements as peers receive it; `reminder` when it asks them to
/// remind their staff.
pub fn announcement_document(
    urls: &NodeUrls,
    row: &crate::store::announcements::AnnouncementRow,
    author: &AccountRow,
    node_name: &str,
) -> fika_federation::announcements::Announcement {
    fika_federation::announcements::Announcement {
        context: None,
        id: row
            .ap_id
            .clone()
            .unwrap_or_else(|| announcement_id(urls, row.id)),
        kind: fika_federation::announcements::ANNOUNCEMENT.into(),
        attributed_to: actor_id(urls, author),
        name: node_name.to_string(),
        content: row.content.clone(),
        content_map: row
            .language
            .as_ref()
            .map(|l| [(l.clone(), row.content.clone())].into()),
        start_time: row.starts_at.map(rfc3339_millis),
        end_time: row.ends_at.map(rfc3339_millis),
        all_day: row.all_day,
        published: rfc3339_millis(row.published_at),
        updated: rfc3339_millis(row.updated_at),
        reminder: row.reminded_at.map(rfc3339_millis),
    }
}

fn millis(at: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A peer's announcement as a row (content sanitised), kept under `origin`'s name.
pub fn remote_announcement(
    doc: &fika_federation::announcements::Announcement,
    origin: &str,
    id: i64,
) -> crate::store::announcements::AnnouncementRow {
    let now = crate::store::now_millis();
    crate::store::announcements::AnnouncementRow {
        id,
        origin: origin.to_string(),
        ap_id: Some(doc.id.clone()),
        origin_name: doc.name.chars().take(100).collect(),
        author_id: None,
        text: String::new(),
        content: sanitize(&doc.content),
        language: doc
            .content_map
            .as_ref()
            .and_then(|m| m.keys().next().cloned()),
        reach: "org".into(),
        starts_at: doc.start_time.as_deref().and_then(millis),
        ends_at: doc.end_time.as_deref().and_then(millis),
        all_day: doc.all_day,
        published_at: millis(&doc.published).unwrap_or(now).min(now),
        updated_at: millis(&doc.updated).unwrap_or(now).min(now),
        withdrawn_at: None,
        reminded_at: doc.reminder.as_deref().and_then(millis),
        streamed: false,
    }
}

/// This node's counts of a peer's announcement, as reported to its origin.
pub fn announcement_counts(
    urls: &NodeUrls,
    announcement: &str,
    local_id: i64,
    counts: &crate::store::announcements::Counts,
) -> fika_federation::announcements::AnnouncementCounts {
    let now = crate::store::now_millis();
    fika_federation::announcements::AnnouncementCounts {
        context: Some(fika_federation::announcements::context()),
        id: urls
            .join(&format!("/announcements/{local_id}/counts#{now}"))
            .to_string(),
        kind: fika_federation::announcements::COUNTS.into(),
        announcement: announcement.to_string(),
        reached: counts.reached,
        read: counts.read,
        reactions: counts.reactions.clone(),
        updated: rfc3339_millis(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note_updated(updated: Option<&str>) -> activities::Note {
        let mut v = serde_json::json!({
            "id": "https://b.test/notes/1", "type": "Note",
            "attributedTo": "https://b.test/users/bob", "content": "<p>hi</p>",
        });
        if let Some(at) = updated {
            v["updated"] = serde_json::json!(at);
        }
        activities::parse_note(&v).unwrap()
    }

    #[test]
    fn an_edit_is_dated_by_its_updated_never_later_than_now() {
        let now = millis("2026-12-03T12:00:00Z").unwrap();
        let earlier = note_updated(Some("2026-12-03T11:00:00.250Z"));
        assert_eq!(edit_time(&earlier, now), now - 3_599_750);
        let future = note_updated(Some("2027-01-01T00:00:00Z"));
        assert_eq!(edit_time(&future, now), now);
        assert_eq!(edit_time(&note_updated(None), now), now);
        assert_eq!(edit_time(&note_updated(Some("yesterday")), now), now);
    }
}
