//! Announcements that replace the mass mail. Admins and communicators publish them to this node
//! or to the organisation: every peer that takes this node's announcements (by default its
//! `org` peers; per peer, admins say otherwise). Staff read them in their apps (the Mastodon
//! announcements API and streams), dismiss them (a dismissal is a read) and react. Each
//! receiving node reports back to the origin aggregates only (reached, read, reactions per
//! emoji), at most every few seconds; the origin shows them per node. A reminder asks every node
//! to tell again those of its staff who have not read it.

use std::collections::HashSet;

use fika_federation::announcements::{self as wire, ANNOUNCEMENT, COUNTS};
use fika_federation::policy::Tier;
use fika_federation::protocol::{Activity, ActivityKind, Object, Tombstone};
use serde_json::Value;

use super::accounts::Role;
use super::events::Event;
use super::{DomainError, Node};
use crate::convert::activitypub as convert;
use crate::convert::views::{AnnouncementStatsView, AnnouncementView, NodeCountsView};
use crate::store::accounts::AccountRow;
use crate::store::announcements::{AnnouncementRow, Counts, REPORT_INTERVAL_MS};
use crate::store::now_millis;
use crate::store::policy::Audit;

/// Longest announcement text, in characters.
pub const MAX_CHARACTERS: usize = 5000;

/// What publishing or editing asks for; times are RFC 3339 (or a date, for all-day ones).
#[derive(Debug, Clone, Default)]
pub struct AnnouncementInput {
    pub text: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub all_day: Option<bool>,
    /// `node` (the default) or `org`.
    pub audience: Option<String>,
    pub language: Option<String>,
}

fn parse_time(name: &str, value: &str) -> Result<i64, DomainError> {
    let value = value.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis());
    }
    Err(DomainError::Invalid(format!(
        "{name} must be a date and time (RFC 3339, such as 2026-12-24T09:00:00Z) or a date"
    )))
}

/// Optional times: absent keeps `current`, an empty string clears it.
fn time_field(
    name: &str,
    asked: Option<&str>,
    current: Option<i64>,
) -> Result<Option<i64>, DomainError> {
    match asked {
        None => Ok(current),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => parse_time(name, v).map(Some),
    }
}

/// The rules for an announcement's times, testable without a database.
pub fn check_times(
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    now: i64,
) -> Result<(), &'static str> {
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            return Err("ends_at must be after starts_at");
        }
    }
    if ends_at.is_some_and(|e| e <= now) {
        return Err("ends_at is in the past");
    }
    Ok(())
}

/// A reaction name: one emoji (custom emojis are not kept here), as Mastodon checks it.
pub fn check_reaction(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.chars().count() <= 8
        && !name
            .chars()
            .any(|c| c.is_ascii() || c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err("Name is not a recognized emoji")
    }
}

fn may_publish(account: &AccountRow) -> bool {
    matches!(
        account.effective_role().parse::<Role>(),
        Ok(Role::Admin | Role::Communicator)
    )
}

fn require_publisher(account: &AccountRow) -> Result<(), DomainError> {
    if may_publish(account) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "This action is not allowed: it needs the admin or communicator role".into(),
        ))
    }
}

fn audit<'a>(who: &'a str, action: &'a str, detail: &'a str) -> Audit<'a> {
    Audit {
        actor: who,
        action,
        domain: None,
        detail,
    }
}

/// Whether announcements travel between this node and `domain`: an admin's per-peer setting,
/// else yes for `org` peers and no for partners; never for a peer the policy refuses.
pub async fn travels_with(node: &Node, domain: &str) -> Result<bool, DomainError> {
    let net = &node.fed.net;
    if !net.allows(domain) {
        return Ok(false);
    }
    Ok(match node.store.peer_announcements(domain).await? {
        Some(on) => on,
        None => net.tier(domain) == Some(Tier::Org),
    })
}

/// The peers this node's organisation-wide announcements go to.
pub async fn announcement_peers(node: &Node) -> Result<Vec<String>, DomainError> {
    let own = node.urls.domain.to_ascii_lowercase();
    let mut peers: Vec<String> = super::federation::outbound::org_peers(node);
    for (domain, on) in node.store.all_peer_announcements().await? {
        if on && !peers.contains(&domain) {
            peers.push(domain);
        }
    }
    let mut out = Vec::new();
    for p in peers {
        if p != own && travels_with(node, &p).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Sets whether announcements travel between this node and `domain` (both ways).
pub async fn set_peer_setting(
    store: &crate::store::Store,
    who: &str,
    domain: &str,
    on: bool,
) -> Result<String, DomainError> {
    let domain = super::policy::normalize_domain(domain)?;
    let detail = format!("announcements {}", if on { "on" } else { "off" });
    store
        .set_peer_announcements(
            &domain,
            on,
            &Audit {
                actor: who,
                action: "announcements",
                domain: Some(&domain),
                detail: &detail,
            },
        )
        .await?;
    Ok(domain)
}

/// The HTML an announcement's text is shown as (hashtags linked, as in statuses).
pub fn render(node: &Node, text: &str) -> String {
    super::text::render(text, |_, _| None, |tag| node.urls.tag(tag).to_string())
}

/// The deliveries of a change to one of ours, to the peers that take it (none for `node`).
async fn deliveries(
    node: &Node,
    row: &AnnouncementRow,
    author: &AccountRow,
    kind: ActivityKind,
) -> Result<Vec<crate::store::deliveries::NewDelivery>, DomainError> {
    if row.reach != "org" {
        return Ok(vec![]);
    }
    let peers = announcement_peers(node).await?;
    let id = convert::announcement_id(&node.urls, row.id);
    let object = match kind {
        ActivityKind::Delete => Object::Tombstone(Tombstone::new(id.clone())),
        _ => Object::Announcement(Box::new(convert::announcement_document(
            &node.urls,
            row,
            author,
            &node.config.server.node_name,
        ))),
    };
    let activity_id = format!("{id}#{}-{}", kind.as_str().to_lowercase(), now_millis());
    super::federation::outbound::announcement_deliveries(
        node,
        author,
        peers,
        kind,
        activity_id,
        object,
    )
    .await
}

/// Publishes an announcement as `author` (an admin or a communicator).
pub async fn publish(
    node: &Node,
    author: &AccountRow,
    input: AnnouncementInput,
) -> Result<AnnouncementStatsView, DomainError> {
    require_publisher(author)?;
    let now = now_millis();
    let text = input.text.as_deref().unwrap_or("").trim().to_string();
    check_text(&text)?;
    let starts_at = time_field("starts_at", input.starts_at.as_deref(), None)?;
    let ends_at = time_field("ends_at", input.ends_at.as_deref(), None)?;
    check_times(starts_at, ends_at, now).map_err(|e| DomainError::Invalid(e.into()))?;
    let reach = input.audience.unwrap_or_else(|| "node".into());
    if !matches!(reach.as_str(), "node" | "org") {
        return Err(DomainError::Invalid(format!(
            "audience must be node or org, not {reach:?}"
        )));
    }
    let row = AnnouncementRow {
        id: crate::ids::next_id(),
        origin: String::new(),
        ap_id: None,
        origin_name: node.config.server.node_name.clone(),
        author_id: Some(author.id),
        content: render(node, &text),
        text,
        language: input.language.or_else(|| author.default_language.clone()),
        reach,
        starts_at,
        ends_at,
        all_day: input.all_day.unwrap_or(false),
        published_at: now,
        updated_at: now,
        withdrawn_at: None,
        reminded_at: None,
        streamed: false,
    };
    let out = deliveries(node, &row, author, ActivityKind::Create).await?;
    let detail = format!("announcement {} to {}", row.id, row.reach);
    node.store
        .insert_announcement(
            &row,
            &audit(&who(author), "announcement.publish", &detail),
            &out,
        )
        .await?;
    super::federation::outbound::wake_deliveries(node, !out.is_empty());
    tracing::info!(announcement = row.id, reach = %row.reach, peers = out.len(), "announcement published");
    stream_if_active(node, &row).await?;
    stats(node, &row).await
}

fn who(a: &AccountRow) -> String {
    format!("api:{}", a.username)
}

fn check_text(text: &str) -> Result<(), DomainError> {
    if text.is_empty() {
        return Err(DomainError::Invalid("Text can't be blank".into()));
    }
    if text.chars().count() > MAX_CHARACTERS {
        return Err(DomainError::Invalid(format!(
            "Text character limit of {MAX_CHARACTERS} exceeded"
        )));
    }
    Ok(())
}

/// One of this node's announcements, for its admins and communicators.
async fn own(node: &Node, actor: &AccountRow, id: i64) -> Result<AnnouncementRow, DomainError> {
    require_publisher(actor)?;
    node.store
        .announcement(id)
        .await?
        .filter(AnnouncementRow::is_local)
        .ok_or(DomainError::NotFound("announcement"))
}

/// Edits one of ours; staff's streams and the peers that have it get the new version.
pub async fn edit(
    node: &Node,
    actor: &AccountRow,
    id: i64,
    input: AnnouncementInput,
) -> Result<AnnouncementStatsView, DomainError> {
    let mut row = own(node, actor, id).await?;
    if row.withdrawn_at.is_some() {
        return Err(DomainError::Invalid(
            "A withdrawn announcement cannot be edited".into(),
        ));
    }
    let now = now_millis();
    if let Some(text) = &input.text {
        let text = text.trim().to_string();
        check_text(&text)?;
        row.content = render(node, &text);
        row.text = text;
    }
    row.starts_at = time_field("starts_at", input.starts_at.as_deref(), row.starts_at)?;
    row.ends_at = time_field("ends_at", input.ends_at.as_deref(), row.ends_at)?;
    check_times(row.starts_at, row.ends_at, now).map_err(|e| DomainError::Invalid(e.into()))?;
    if let Some(all_day) = input.all_day {
        row.all_day = all_day;
    }
    if let Some(a) = input.audience.filter(|a| *a != row.reach) {
        return Err(DomainError::Invalid(format!(
            "The audience of a published announcement stays {}: withdraw it and publish again for {a}",
            row.reach
        )));
    }
    row.updated_at = now;
    row.streamed = false;
    let out = deliveries(node, &row, actor, ActivityKind::Update).await?;
    let detail = format!("announcement {id}");
    node.store
        .update_announcement(
            &row,
            Some(&audit(&who(actor), "announcement.edit", &detail)),
            &out,
        )
        .await?;
    super::federation::outbound::wake_deliveries(node, !out.is_empty());
    stream_if_active(node, &row).await?;
    stats(node, &row).await
}

/// Withdraws one of ours: gone from every app, here and on the peers that have it.
pub async fn withdraw(node: &Node, actor: &AccountRow, id: i64) -> Result<(), DomainError> {
    let mut row = own(node, actor, id).await?;
    if row.withdrawn_at.is_some() {
        return Ok(());
    }
    row.withdrawn_at = Some(now_millis());
    let out = deliveries(node, &row, actor, ActivityKind::Delete).await?;
    let detail = format!("announcement {id}");
    node.store
        .update_announcement(
            &row,
            Some(&audit(&who(actor), "announcement.withdraw", &detail)),
            &out,
        )
        .await?;
    super::federation::outbound::wake_deliveries(node, !out.is_empty());
    node.hub.publish(Event::AnnouncementDelete { id });
    Ok(())
}

/// Asks this node and every peer that has it to tell again those who have not read it.
pub async fn remind(
    node: &Node,
    actor: &AccountRow,
    id: i64,
) -> Result<AnnouncementStatsView, DomainError> {
    let mut row = own(node, actor, id).await?;
    if !row.is_active(now_millis()) {
        return Err(DomainError::Invalid(
            "Only an announcement that is shown now can be reminded of".into(),
        ));
    }
    row.reminded_at = Some(now_millis());
    let out = deliveries(node, &row, actor, ActivityKind::Update).await?;
    let detail = format!("announcement {id}");
    node.store
        .update_announcement(
            &row,
            Some(&audit(&who(actor), "announcement.remind", &detail)),
            &out,
        )
        .await?;
    super::federation::outbound::wake_deliveries(node, !out.is_empty());
    remind_unread(node, &row).await?;
    stats(node, &row).await
}

async fn remind_unread(node: &Node, row: &AnnouncementRow) -> Result<(), DomainError> {
    let unread = node.store.announcement_unread_by(row.id).await?;
    tracing::info!(
        announcement = row.id,
        staff = unread.len(),
        "reminding staff who have not read an announcement"
    );
    node.hub.publish(Event::Announcement {
        id: row.id,
        to: Some(unread),
    });
    Ok(())
}

/// Tells staff's streams of an announcement shown now (later ones are told when they start).
async fn stream_if_active(node: &Node, row: &AnnouncementRow) -> Result<(), DomainError> {
    if row.is_active(now_millis()) {
        node.store.mark_announcement_streamed(row.id).await?;
        node.hub.publish(Event::Announcement {
            id: row.id,
            to: None,
        });
    }
    Ok(())
}

/// An announcement with its counts here and on every peer that reported.
async fn stats(node: &Node, row: &AnnouncementRow) -> Result<AnnouncementStatsView, DomainError> {
    let here = node.store.local_announcement_counts(row.id).await?;
    let mut nodes = vec![NodeCountsView {
        node: String::new(),
        name: node.config.server.node_name.clone(),
        counts: here,
        updated_at: None,
    }];
    for p in node.store.announcement_peer_counts(row.id).await? {
        nodes.push(NodeCountsView {
            name: p.peer.clone(),
            node: p.peer,
            counts: Counts {
                reached: p.reached,
                read: p.read,
                reactions: serde_json::from_str(&p.reactions).unwrap_or_default(),
            },
            updated_at: Some(p.updated_at),
        });
    }
    let mut total = Counts::default();
    for n in &nodes {
        total.reached += n.counts.reached;
        total.read += n.counts.read;
        for (name, count) in &n.counts.reactions {
            *total.reactions.entry(name.clone()).or_default() += count;
        }
    }
    let author = match row.author_id {
        Some(a) => node.store.account_by_id(a).await?,
        None => None,
    };
    Ok(AnnouncementStatsView {
        row: row.clone(),
        author,
        nodes,
        total,
    })
}

/// This node's announcements with their counts, newest first.
pub async fn admin_list(
    node: &Node,
    actor: &AccountRow,
) -> Result<Vec<AnnouncementStatsView>, DomainError> {
    require_publisher(actor)?;
    let mut out = Vec::new();
    for row in node.store.own_announcements(100).await? {
        out.push(stats(node, &row).await?);
    }
    Ok(out)
}

pub async fn admin_get(
    node: &Node,
    actor: &AccountRow,
    id: i64,
) -> Result<AnnouncementStatsView, DomainError> {
    let row = own(node, actor, id).await?;
    stats(node, &row).await
}

/// What `viewer` is shown: the announcements active now (without `with_dismissed`, those not
/// dismissed yet), with their reactions.
pub async fn list(
    node: &Node,
    viewer: &AccountRow,
    with_dismissed: bool,
) -> Result<Vec<AnnouncementView>, DomainError> {
    let rows = node
        .store
        .active_announcements(now_millis(), viewer.id, with_dismissed)
        .await?;
    views(node, viewer, rows).await
}

async fn views(
    node: &Node,
    viewer: &AccountRow,
    rows: Vec<AnnouncementRow>,
) -> Result<Vec<AnnouncementView>, DomainError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let read: HashSet<i64> = node.store.announcements_read_by(viewer.id, &ids).await?;
    let reactions = node.store.announcement_reactions(viewer.id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| AnnouncementView {
            read: read.contains(&row.id),
            reactions: reactions
                .iter()
                .filter(|r| r.announcement_id == row.id)
                .cloned()
                .collect(),
            tags: {
                // A peer's announcement arrives as HTML only.
                let text = match row.text.is_empty() {
                    true => crate::convert::text::html_to_plain(&row.content),
                    false => row.text.clone(),
                };
                super::text::hashtags(&text)
                    .into_iter()
                    .map(|(_, display)| display)
                    .collect()
            },
            row,
        })
        .collect())
}

/// One announcement as `viewer` sees it (for stream events), if it is shown now.
pub async fn view(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<AnnouncementView, DomainError> {
    let row = shown(node, id).await?;
    views(node, viewer, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("announcement"))
}

async fn shown(node: &Node, id: i64) -> Result<AnnouncementRow, DomainError> {
    node.store
        .announcement(id)
        .await?
        .filter(|r| r.is_active(now_millis()))
        .ok_or(DomainError::NotFound("announcement"))
}

/// `viewer` dismissed it: it counts as read.
pub async fn dismiss(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    let row = shown(node, id).await?;
    node.store.dismiss_announcement(&row, viewer.id).await?;
    Ok(())
}

/// `viewer` adds (or takes back) a reaction; everyone's streams get the new count.
pub async fn react(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    name: &str,
    on: bool,
) -> Result<(), DomainError> {
    check_reaction(name).map_err(|e| DomainError::Invalid(e.into()))?;
    let row = shown(node, id).await?;
    if node
        .store
        .set_announcement_reaction(&row, viewer.id, name, on)
        .await?
    {
        let count = node
            .store
            .local_announcement_counts(id)
            .await?
            .reactions
            .get(name)
            .copied()
            .unwrap_or(0);
        node.hub.publish(Event::AnnouncementReaction {
            id,
            name: name.to_string(),
            count,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// From peers

/// Whether a Create or Update carries an announcement or a node's counts (not a note).
pub fn is_announcement_object(kind: Option<&str>) -> bool {
    matches!(kind, Some(ANNOUNCEMENT | COUNTS))
}

/// Refuses what cannot be an announcement from `actor` before it is queued.
pub fn check(kind: ActivityKind, object: &Value, actor: &str) -> Result<(), DomainError> {
    match fika_federation::activities::type_of(object) {
        Some(ANNOUNCEMENT) => {
            let doc = wire::parse_announcement(object)
                .map_err(|e| DomainError::Invalid(e.to_string()))?;
            if doc.attributed_to != actor {
                return Err(DomainError::Invalid(
                    "announcement attributed to someone else".into(),
                ));
            }
            Ok(())
        }
        Some(COUNTS) if kind == ActivityKind::Update => wire::parse_counts(object)
            .map(|_| ())
            .map_err(|e| DomainError::Invalid(e.to_string())),
        other => Err(DomainError::Invalid(format!(
            "{} of unsupported object type {other:?}",
            kind.as_str()
        ))),
    }
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| fika_federation::policy::url_domain(&u))
}

/// A Create or Update of an announcement, or an Update of a node's counts of one of ours.
pub async fn receive(node: &Node, signer: &AccountRow, object: &Value) -> Result<(), DomainError> {
    if fika_federation::activities::type_of(object) == Some(COUNTS) {
        return receive_counts(node, signer, object).await;
    }
    let doc = wire::parse_announcement(object).map_err(|e| DomainError::Invalid(e.to_string()))?;
    let origin = signer.domain.clone();
    if !travels_with(node, &origin).await? {
        return Err(DomainError::Invalid(format!(
            "announcement {} from {origin}, which may not send announcements here",
            doc.id
        )));
    }
    if host_of(&doc.id).as_deref() != Some(origin.as_str()) {
        return Err(DomainError::Invalid(format!(
            "announcement {} is not on {origin}",
            doc.id
        )));
    }
    let held = node.store.announcement_by_ap_id(&doc.id).await?;
    if let Some(h) = &held {
        if h.origin != origin {
            return Err(DomainError::Invalid(format!(
                "announcement {} belongs to {}",
                doc.id, h.origin
            )));
        }
        if h.withdrawn_at.is_some() {
            return Ok(());
        }
    }
    let mut row = convert::remote_announcement(&doc, &origin, crate::ids::next_id());
    row.author_id = Some(signer.id);
    if row.origin_name.trim().is_empty() {
        row.origin_name = origin.clone();
    }
    let reminded =
        row.reminded_at.is_some() && row.reminded_at != held.as_ref().and_then(|h| h.reminded_at);
    let stored = node.store.upsert_remote_announcement(&row).await?;
    tracing::info!(announcement = %doc.id, origin = %origin, "announcement received");
    if reminded && held.is_some() {
        remind_unread(node, &stored).await?;
    } else {
        stream_if_active(node, &stored).await?;
    }
    Ok(())
}

/// A Delete naming an announcement of the signer's node: withdrawn here. `false` when `id`
/// names no announcement (the Delete is about something else).
pub async fn receive_delete(
    node: &Node,
    signer: &AccountRow,
    id: &str,
) -> Result<bool, DomainError> {
    let Some(mut row) = node.store.announcement_by_ap_id(id).await? else {
        return Ok(false);
    };
    if row.origin != signer.domain {
        return Err(DomainError::Invalid(format!(
            "Delete of announcement {id} by a node that did not publish it"
        )));
    }
    if row.withdrawn_at.is_none() {
        row.withdrawn_at = Some(now_millis());
        node.store.update_announcement(&row, None, &[]).await?;
        node.hub.publish(Event::AnnouncementDelete { id: row.id });
        tracing::info!(announcement = %id, "announcement withdrawn by its origin");
    }
    Ok(true)
}

/// A peer's counts of one of ours, kept per peer (aggregates only: the peer never says who).
async fn receive_counts(
    node: &Node,
    signer: &AccountRow,
    object: &Value,
) -> Result<(), DomainError> {
    let counts = wire::parse_counts(object).map_err(|e| DomainError::Invalid(e.to_string()))?;
    let peer = signer.domain.clone();
    let row = own_by_ap_id(node, &counts.announcement)
        .await?
        .filter(|r| r.reach == "org")
        .ok_or(DomainError::NotFound("announcement"))?;
    if !travels_with(node, &peer).await? {
        return Err(DomainError::Invalid(format!(
            "counts of announcement {} from {peer}, which does not take announcements from here",
            row.id
        )));
    }
    node.store
        .save_peer_counts(
            row.id,
            &peer,
            &Counts {
                reached: counts.reached,
                read: counts.read,
                reactions: counts.reactions,
            },
        )
        .await?;
    tracing::info!(announcement = row.id, peer = %peer, reached = counts.reached, read = counts.read, "announcement counts received");
    Ok(())
}

/// One of ours, by its id on the wire.
async fn own_by_ap_id(node: &Node, ap_id: &str) -> Result<Option<AnnouncementRow>, DomainError> {
    let prefix = convert::announcement_id(&node.urls, 0);
    let prefix = prefix.trim_end_matches('0');
    let Some(id) = ap_id
        .strip_prefix(prefix)
        .and_then(|rest| rest.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    Ok(node
        .store
        .announcement(id)
        .await?
        .filter(AnnouncementRow::is_local))
}

// ---------------------------------------------------------------------------------------------
// Background work (`jobs::announcements`)

/// Sends the reports owed to the origins of peers' announcements; how many were sent.
pub async fn send_reports(node: &Node) -> Result<usize, DomainError> {
    let now = now_millis();
    let mut sent = 0;
    for (id, version) in node.store.due_announcement_reports(now).await? {
        let Some(row) = node.store.announcement(id).await? else {
            continue;
        };
        let (Some(ap_id), Some(author)) = (row.ap_id.clone(), row.author_id) else {
            continue;
        };
        let Some(author) = node.store.account_by_id(author).await? else {
            continue;
        };
        let Some(inbox) = author
            .shared_inbox_url
            .clone()
            .or_else(|| author.inbox_url.clone())
        else {
            continue;
        };
        if !travels_with(node, &row.origin).await? {
            node.store
                .sent_announcement_report(id, version, now)
                .await?;
            continue;
        }
        let counts = node.store.local_announcement_counts(id).await?;
        let doc = convert::announcement_counts(&node.urls, &ap_id, id, &counts);
        let mut activity = Activity::new(
            ActivityKind::Update,
            format!("{}#announcement-counts-{id}-{now}", node.urls.node_actor()),
            node.urls.node_actor().to_string(),
            Object::AnnouncementCounts(Box::new(doc)),
        );
        activity.context = Some(wire::context());
        let body = activity.to_json().to_string();
        match node
            .fed
            .net
            .post(&inbox, body.as_bytes(), &node.fed.node_signer)
            .await
        {
            Ok(()) => {
                node.store
                    .sent_announcement_report(id, version, now)
                    .await?;
                sent += 1;
            }
            Err(e) => {
                tracing::info!(announcement = %ap_id, origin = %row.origin, error = %e, "announcement counts not sent; trying again");
                node.store
                    .retry_announcement_report(id, now + 5 * REPORT_INTERVAL_MS)
                    .await?;
            }
        }
    }
    Ok(sent)
}

/// Tells staff's streams of announcements whose start has come; how many.
pub async fn stream_started(node: &Node) -> Result<usize, DomainError> {
    let rows = node.store.unstreamed_announcements(now_millis()).await?;
    for row in &rows {
        stream_if_active(node, row).await?;
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_reactions_are_checked() {
        let now = 1_000_000;
        assert!(check_times(None, None, now).is_ok());
        assert!(check_times(Some(now + 10), Some(now + 20), now).is_ok());
        assert_eq!(
            check_times(Some(now + 20), Some(now + 10), now),
            Err("ends_at must be after starts_at")
        );
        assert_eq!(
            check_times(None, Some(now - 1), now),
            Err("ends_at is in the past")
        );
        assert!(check_reaction("👍").is_ok());
        assert!(check_reaction("🎉").is_ok());
        for bad in ["", "thumbs", ":blobcat:", "👍 👍", "a👍"] {
            assert!(check_reaction(bad).is_err(), "{bad:?}");
        }
        assert!(parse_time("x", "2026-12-24").is_ok());
        assert!(parse_time("x", "2026-12-24T09:00:00+01:00").is_ok());
        assert!(parse_time("x", "next friday").is_err());
    }
}
