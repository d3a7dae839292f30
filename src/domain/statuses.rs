//! Statuses: posting, reading (always through the visibility rules), editing, deleting,
//! favourites, reblogs, bookmarks, threads.

use std::collections::{HashMap, HashSet};

use super::audience::{self, Audience, Locality, Origin, Relation, Scope, StatusFacts};
use super::events::Event;
use super::text::{self, ResolvedMention};
use super::{DomainError, Node};
use crate::convert::views::{
    AccountView, ContextView, PollParams, PollView, StatusEditView, StatusSourceView, StatusView,
    ViewerMarks,
};
use crate::store::accounts::AccountRow;
use crate::store::hidden::Hiding;
use crate::store::media::MediaRow;
use crate::store::now_millis;
use crate::store::polls::PollRow;
use crate::store::statuses::{NewNotification, NewStatus, Page, StatusRow};

/// Longest status text, in characters (advertised in `/api/v2/instance`).
pub const MAX_CHARACTERS: usize = 5000;
pub const MAX_MEDIA: usize = 4;
/// How long an `Idempotency-Key` returns the same status.
const IDEMPOTENCY_WINDOW_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: Option<bool>,
    pub visibility: Option<Scope>,
    /// Department-only or not, when the app said (`local_only`, or `visibility: "local"`).
    pub locality: Option<Locality>,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub media_ids: Vec<i64>,
    pub idempotency_key: Option<String>,
    /// A poll: the status becomes a Question (no media with it).
    pub poll: Option<PollParams>,
}

#[derive(Debug, Clone, Default)]
pub struct AppInfo {
    pub name: String,
    pub website: Option<String>,
}

/// Relations of `viewer` to the authors of `rows`, for the visibility rules, and the authors
/// who block the viewer (whose statuses it does not see at all).
struct Relations {
    by_status: HashMap<i64, Relation>,
    blockers: HashSet<i64>,
}

async fn relations(
    node: &Node,
    viewer: Option<&AccountRow>,
    rows: &[&StatusRow],
) -> Result<Relations, DomainError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mentions = match viewer {
        Some(_) => node.store.mentions_of(&ids).await?,
        None => Vec::new(),
    };
    relations_with(node, viewer, rows, &mentions).await
}

/// [`relations`] with the statuses' mentions already at hand.
async fn relations_with(
    node: &Node,
    viewer: Option<&AccountRow>,
    rows: &[&StatusRow],
    mentions: &[(i64, i64)],
) -> Result<Relations, DomainError> {
    let Some(viewer) = viewer else {
        return Ok(Relations {
            by_status: HashMap::new(),
            blockers: HashSet::new(),
        });
    };
    // Authors and the groups statuses were posted into: following a group is membership.
    let authors: Vec<i64> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.account_id).chain(r.group_id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (following, blockers) = node
        .store
        .following_and_blockers_among(viewer.id, &authors)
        .await?;
    let mentioned: HashSet<i64> = mentions
        .iter()
        .filter(|(_, account)| *account == viewer.id)
        .map(|(status, _)| *status)
        .collect();
    let by_status = rows
        .iter()
        .map(|r| {
            (
                r.id,
                Relation {
                    is_author: r.account_id == viewer.id,
                    follows_author: following.contains(&r.account_id),
                    mentioned: mentioned.contains(&r.id),
                    group_member: r.group_id.is_some_and(|g| following.contains(&g)),
                },
            )
        })
        .collect();
    Ok(Relations {
        by_status,
        blockers,
    })
}

fn visible(row: &StatusRow, viewer: Option<&AccountRow>, rel: &Relations) -> bool {
    !rel.blockers.contains(&row.account_id)
        && audience::may_see(
            row.audience(),
            viewer.map(|_| rel.by_status.get(&row.id).copied().unwrap_or_default()),
        )
}

/// A status the viewer may see, or NotFound (never "forbidden": that would leak existence).
pub async fn visible_status(
    node: &Node,
    viewer: Option<&AccountRow>,
    id: i64,
) -> Result<StatusRow, DomainError> {
    let row = node
        .store
        .status_by_id(id)
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let rel = relations(node, viewer, &[&row]).await?;
    if !visible(&row, viewer, &rel) {
        return Err(DomainError::NotFound("status"));
    }
    if let Some(target) = row.reblog_of_id {
        Box::pin(visible_status(node, viewer, target)).await?;
    }
    Ok(row)
}

/// A page of who favourited (or, with `reblogs`, reblogged) a status the viewer may see.
pub async fn actors(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    reblogs: bool,
    page: &Page,
) -> Result<super::accounts::AccountPage, DomainError> {
    let status = visible_status(node, Some(viewer), id).await?;
    let rows = node.store.status_actors(status.id, reblogs, page).await?;
    super::accounts::page(node, &rows).await
}

/// [`views`] shown in `context`: with the viewer's filters applied (`hide` matches left out,
/// the others marked).
pub async fn views_in(
    node: &Node,
    viewer: &AccountRow,
    ids: &[i64],
    context: super::filters::Context,
) -> Result<Vec<StatusView>, DomainError> {
    let views = views(node, Some(viewer), ids).await?;
    super::filters::apply(node, viewer, context, views).await
}

/// The statuses of `ids` the viewer may see, in the order given, with all a rendering needs:
/// one batched query per kind of data for the whole list.
pub async fn views(
    node: &Node,
    viewer: Option<&AccountRow>,
    ids: &[i64],
) -> Result<Vec<StatusView>, DomainError> {
    if ids.is_empty() || viewer.is_none() {
        return Ok(Vec::new());
    }
    let store = &node.store;
    let mut rows: HashMap<i64, StatusRow> = store
        .statuses_by_ids(ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let targets: Vec<i64> = rows
        .values()
        .filter_map(|r| r.reblog_of_id)
        .filter(|t| !rows.contains_key(t))
        .collect();
    for r in store.statuses_by_ids(&targets).await? {
        rows.insert(r.id, r);
    }
    let all: Vec<&StatusRow> = rows.values().collect();
    let all_ids: Vec<i64> = rows.keys().copied().collect();
    let mention_pairs = store.mentions_of(&all_ids).await?;
    let rel = relations_with(node, viewer, &all, &mention_pairs).await?;
    let mut account_ids: HashSet<i64> = rows.values().map(|r| r.account_id).collect();
    account_ids.extend(mention_pairs.iter().map(|(_, a)| *a));
    let account_ids: Vec<i64> = account_ids.into_iter().collect();
    let account_rows: HashMap<i64, AccountRow> = store
        .accounts_by_ids(&account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let counts = store.account_counts(&account_ids).await?;
    let status_counts = store.status_counts(&all_ids).await?;
    let mut media: HashMap<i64, Vec<MediaRow>> = HashMap::new();
    for m in store.media_of_statuses(&all_ids).await? {
        if let Some(s) = m.status_id {
            media.entry(s).or_default().push(m);
        }
    }
    let mut mentions: HashMap<i64, Vec<AccountRow>> = HashMap::new();
    for (s, a) in &mention_pairs {
        if let Some(row) = account_rows.get(a) {
            mentions.entry(*s).or_default().push(row.clone());
        }
    }
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (s, display) in store.tags_of(&all_ids).await? {
        tags.entry(s).or_default().push(display);
    }
    let mut marked = match viewer {
        Some(v) => store.viewer_marks(v.id, &all_ids).await?,
        None => Default::default(),
    };
    let polls = store.polls_of(&all_ids).await?;
    for votes in marked.votes.values_mut() {
        votes.sort_unstable();
    }

    let one = |row: &StatusRow, reblog: Option<StatusView>| -> Option<StatusView> {
        let author = account_rows.get(&row.account_id)?;
        Some(StatusView {
            row: row.clone(),
            author: author.clone(),
            author_counts: counts.get(&author.id).copied().unwrap_or_default(),
            counts: status_counts.get(&row.id).copied().unwrap_or_default(),
            media: media.get(&row.id).cloned().unwrap_or_default(),
            mentions: mentions.get(&row.id).cloned().unwrap_or_default(),
            tags: tags.get(&row.id).cloned().unwrap_or_default(),
            marks: viewer.map(|v| ViewerMarks {
                favourited: marked.favourited.contains(&row.id),
                reblogged: marked.reblogged.contains(&row.id),
                bookmarked: marked.bookmarked.contains(&row.id),
                pinned: (row.account_id == v.id).then(|| marked.pinned.contains(&row.id)),
                muted: marked.muted.contains(&row.id),
            }),
            reblog: reblog.map(Box::new),
            source_text: None,
            poll: polls.get(&row.id).map(|p| PollView {
                row: p.clone(),
                own_votes: viewer.map(|_| marked.votes.get(&row.id).cloned().unwrap_or_default()),
                own_poll: viewer.is_some_and(|v| v.id == row.account_id),
            }),
            filtered: vec![],
        })
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(row) = rows.get(id) else { continue };
        if !visible(row, viewer, &rel) {
            continue;
        }
        let reblog = match row.reblog_of_id {
            Some(t) => match rows.get(&t) {
                Some(target) if visible(target, viewer, &rel) => one(target, None),
                _ => continue,
            },
            None => None,
        };
        if let Some(v) = one(row, reblog) {
            out.push(v);
        }
    }
    Ok(out)
}

/// One status as the viewer sees it, or NotFound.
pub async fn view(node: &Node, viewer: &AccountRow, id: i64) -> Result<StatusView, DomainError> {
    views(node, Some(viewer), &[id])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("status"))
}

/// Accounts mentioned in `text`: local ones by username, remote ones (`@user@domain`) from the
/// store or by WebFinger. A mention that resolves to nothing stays plain text.
async fn resolve_mentions(node: &Node, text: &str) -> Result<Vec<AccountRow>, DomainError> {
    let mut out: Vec<AccountRow> = Vec::new();
    for (username, domain) in text::mentions(text) {
        let local = domain
            .as_deref()
            .is_none_or(|d| d.eq_ignore_ascii_case(&node.urls.domain));
        let found = if local {
            super::accounts::find_local(&node.store, &username).await?
        } else {
            let domain = domain.unwrap_or_default();
            match super::federation::resolve::resolve_acct(node, &username, &domain).await {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::info!(mention = %format!("@{username}@{domain}"), error = %e, "mention not resolved");
                    None
                }
            }
        };
        if let Some(a) = found {
            if !a.suspended && !out.iter().any(|o| o.id == a.id) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

fn render_html(node: &Node, text: &str, mentioned: &[AccountRow]) -> String {
    text::render(
        text,
        |username, domain| {
            let local = domain.is_none_or(|d| d.eq_ignore_ascii_case(&node.urls.domain));
            mentioned
                .iter()
                .find(|a| {
                    a.username.eq_ignore_ascii_case(username)
                        && if local {
                            a.is_local()
                        } else {
                            domain.is_some_and(|d| a.domain.eq_ignore_ascii_case(d))
                        }
                })
                .map(|a| ResolvedMention {
                    username: a.username.clone(),
                    domain: (!a.is_local()).then(|| a.domain.clone()),
                    profile_url: if a.is_local() {
                        node.urls.profile(&a.username).to_string()
                    } else {
                        a.profile_url
                            .clone()
                            .or_else(|| a.ap_id.clone())
                            .unwrap_or_default()
                    },
                })
        },
        |tag| node.urls.tag(tag).to_string(),
    )
}

/// Checks text, content warning and media; returns the media ids as owned by `author`.
pub(crate) async fn validate_content(
    node: &Node,
    author: &AccountRow,
    input: &PostInput,
    editing: Option<i64>,
) -> Result<(), DomainError> {
    let text = input.text.trim();
    if text.is_empty() && (input.media_ids.is_empty() || input.poll.is_some()) {
        return Err(DomainError::Invalid("Text can't be blank".into()));
    }
    if let Some(poll) = &input.poll {
        if !input.media_ids.is_empty() {
            return Err(DomainError::Invalid(
                "Validation failed: Media attachments cannot be combined with a poll".into(),
            ));
        }
        super::polls::new_poll(poll, 0, 0, super::polls::min_expiration(node))?;
    }
    let length = text.chars().count() + input.spoiler_text.chars().count();
    if length > MAX_CHARACTERS {
        return Err(DomainError::Invalid(format!(
            "Text character limit of {MAX_CHARACTERS} exceeded"
        )));
    }
    if input.media_ids.len() > MAX_MEDIA {
        return Err(DomainError::Invalid(format!(
            "Cannot attach more than {MAX_MEDIA} files"
        )));
    }
    let media = node.store.media_by_ids(&input.media_ids).await?;
    for id in &input.media_ids {
        let ok = media.iter().any(|m| {
            m.id == *id
                && m.account_id == author.id
                && (m.status_id.is_none() || m.status_id == editing)
        });
        if !ok {
            return Err(DomainError::Invalid(format!(
                "Media {id} does not exist or is already attached"
            )));
        }
    }
    if let Some(lang) = &input.language {
        let ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphabetic());
        if !ok {
            return Err(DomainError::Invalid(format!(
                "{lang:?} is not an ISO 639 language code"
            )));
        }
    }
    Ok(())
}

/// Deliveries of a Create or Update for a status about to be written, built from what is
/// known before the write (the row is not in the database yet).
#[allow(clippy::too_many_arguments)]
async fn outbound(
    node: &Node,
    row: &StatusRow,
    author: &AccountRow,
    mentioned: &[AccountRow],
    tags: &[(String, String)],
    media_ids: &[i64],
    parent: Option<&StatusRow>,
    poll: Option<&PollRow>,
    kind: &str,
) -> Result<Vec<crate::store::deliveries::NewDelivery>, DomainError> {
    let group = super::federation::outbound::group_actor(node, row).await?;
    let media = node.store.media_by_ids(media_ids).await?;
    let in_reply_to = match parent {
        Some(p) => Some(super::federation::outbound::status_uri(node, p).await?),
        None => None,
    };
    let tag_names: Vec<String> = tags.iter().map(|t| t.1.clone()).collect();
    let parts = crate::convert::activitypub::NoteParts {
        mentioned,
        tags: &tag_names,
        media: &media,
        in_reply_to,
        audience: group,
        poll,
    };
    let mut deliveries =
        super::federation::outbound::status_deliveries(node, row, author, &parts, kind).await?;
    // An edit of a post a group here carries is announced by the group too.
    if kind == "Update" {
        deliveries.extend(
            super::group_posts::relay_change(
                node,
                row,
                fika_federation::protocol::ActivityKind::Update,
            )
            .await?,
        );
    }
    Ok(deliveries)
}

/// Posts a status. Returns its id; an `Idempotency-Key` seen within the hour returns the
/// status it made instead of posting again.
pub async fn post(
    node: &Node,
    author: &AccountRow,
    input: PostInput,
    app: Option<AppInfo>,
) -> Result<i64, DomainError> {
    let store = &node.store;
    if let Some(key) = &input.idempotency_key {
        if let Some(id) = store
            .status_by_idempotency_key(author.id, key, now_millis() - IDEMPOTENCY_WINDOW_MS)
            .await?
        {
            return Ok(id);
        }
    }
    validate_content(node, author, &input, None).await?;
    let reply_to = match input.in_reply_to_id {
        Some(id) => Some(visible_status(node, Some(author), id).await?),
        None => None,
    };
    let asked = input
        .visibility
        .unwrap_or_else(|| author.default_privacy.parse().unwrap_or(Scope::Public));
    let text = input.text.trim().to_string();
    let mut mentioned = resolve_mentions(node, &text).await?;
    let group =
        super::group_posts::group_of_post(node, author, &mentioned, reply_to.as_ref()).await?;
    // A reply in a group's thread goes to the group as well, as if it mentioned it.
    if let Some(g) = &group {
        if !mentioned.iter().any(|m| m.id == g.id) {
            mentioned.push(g.clone());
        }
    }
    let visibility = super::group_posts::post_scope(asked, group.as_ref());
    let locality = audience::post_locality(
        input.locality,
        node_default_locality(node),
        reply_to.as_ref().map(StatusRow::audience),
    );
    let status_audience = Audience::new(visibility, locality);
    // A moderator may have marked the author's media sensitive for good.
    let forced_sensitive = !input.media_ids.is_empty()
        && store
            .moderation_of(&[author.id])
            .await?
            .get(&author.id)
            .is_some_and(|m| m.sensitized);
    let content = render_html(node, &text, &mentioned);
    let id = crate::ids::next_id();
    let now = now_millis();
    let poll = match &input.poll {
        Some(p) => Some(super::polls::new_poll(
            p,
            id,
            now,
            super::polls::min_expiration(node),
        )?),
        None => None,
    };
    let row = StatusRow {
        id,
        account_id: author.id,
        uri: None,
        url: None,
        text: text.clone(),
        content,
        spoiler_text: input.spoiler_text.trim().to_string(),
        sensitive: input.sensitive.unwrap_or(author.default_sensitive)
            || !input.spoiler_text.trim().is_empty()
            || forced_sensitive,
        visibility,
        language: input
            .language
            .clone()
            .or_else(|| author.default_language.clone()),
        in_reply_to_id: reply_to.as_ref().map(|r| r.id),
        in_reply_to_account_id: reply_to.as_ref().map(|r| r.account_id),
        reblog_of_id: None,
        app_name: app.as_ref().map(|a| a.name.clone()),
        app_website: app.and_then(|a| a.website),
        created_at: now,
        edited_at: None,
        locality,
        group_id: group.as_ref().map(|g| g.id),
    };
    let mentioned_ids: Vec<i64> = mentioned.iter().map(|a| a.id).collect();
    let tags = text::hashtags(&text);
    let tag_names: Vec<String> = tags.iter().map(|t| t.0.clone()).collect();
    let home = home_recipients(
        node,
        status_audience,
        author.id,
        row.in_reply_to_account_id,
        &mentioned_ids,
        &tag_names,
    )
    .await?;
    let notifications: Vec<NewNotification> = mentioned
        .iter()
        .filter(|a| a.id != author.id && a.domain.is_empty() && !a.is_group)
        .map(|a| NewNotification {
            report_id: None,
            id: crate::ids::next_id(),
            account_id: a.id,
            from_account_id: author.id,
            kind: "mention",
            status_id: Some(id),
        })
        .collect();
    let mut notifications = notifications;
    notifications.extend(
        status_notifications(node, author.id, id, visibility, &home, &mentioned_ids).await?,
    );
    let parent = reply_to.clone();
    let deliveries = outbound(
        node,
        &row,
        author,
        &mentioned,
        &tags,
        &input.media_ids,
        parent.as_ref(),
        poll.as_ref(),
        "Create",
    )
    .await?;
    let conversation =
        super::conversations::entry(node, visibility, id, author, reply_to.as_ref(), &mentioned)
            .await?;
    let new = NewStatus {
        poll,
        conversation,
        row,
        mentions: mentioned_ids.clone(),
        tags: tags.clone(),
        media_ids: input.media_ids.clone(),
        feed_recipients: home.clone(),
        notifications: notifications.clone(),
        idempotency_key: input.idempotency_key.clone(),
        deliveries,
    };
    if store.insert_status(&new).await? {
        node.fanout_wake.notify_one();
    }
    super::federation::outbound::wake_deliveries(node, !new.deliveries.is_empty());
    // A post into a group hosted here is announced by the group at once.
    if group.as_ref().is_some_and(|g| g.is_local()) {
        super::group_posts::announce(node, &new.row).await?;
    }
    node.hub.publish(Event::Status {
        status_id: id,
        edited: false,
        audience: audience::stream_audience(StatusFacts {
            audience: status_audience,
            origin: Origin::Local,
            author: author.id,
            // Followers' `user` streams hear of it from the fan-out worker, once it is in
            // their home feeds.
            home: audience::immediate_home(author.id, &home),
            mentioned: &mentioned_ids,
            tags: tags.into_iter().map(|t| t.0).collect(),
            with_media: !input.media_ids.is_empty(),
        }),
    });
    node.hub.notified(&notifications);
    Ok(id)
}

/// `status` notifications of a new status for the followers who asked for them (`notify`)
/// and whose home feed it enters; not for a direct status, nor for those it mentions (they
/// hear of it as a mention).
pub(crate) async fn status_notifications(
    node: &Node,
    author: i64,
    status: i64,
    visibility: Scope,
    home: &[i64],
    mentioned: &[i64],
) -> Result<Vec<NewNotification>, DomainError> {
    if visibility == Scope::Direct {
        return Ok(vec![]);
    }
    let wanting = node.store.notified_follower_ids(author).await?;
    Ok(wanting
        .into_iter()
        .filter(|f| *f != author && home.contains(f) && !mentioned.contains(f))
        .map(|account_id| NewNotification {
            id: crate::ids::next_id(),
            account_id,
            from_account_id: author,
            kind: "status",
            status_id: Some(status),
            report_id: None,
        })
        .collect())
}

/// The locality of a status whose app said nothing: the node's `statuses.default_local_only`.
pub fn node_default_locality(node: &Node) -> Locality {
    Locality::from_local_only(node.config.statuses.default_local_only)
}

/// Edits the author's own status; the previous versions stay in its history. Its audience
/// stays as it is: asking for another locality is refused.
pub async fn edit(
    node: &Node,
    author: &AccountRow,
    id: i64,
    input: PostInput,
) -> Result<(), DomainError> {
    let store = &node.store;
    let current = store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == author.id && s.reblog_of_id.is_none())
        .ok_or(DomainError::NotFound("status"))?;
    audience::edit_locality(current.locality, input.locality)
        .map_err(|e| DomainError::Invalid(e.into()))?;
    validate_content(node, author, &input, Some(id)).await?;
    let current_media: Vec<i64> = store
        .media_of_statuses(&[id])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let text = input.text.trim().to_string();
    let mut mentioned = resolve_mentions(node, &text).await?;
    // The group a post was made in stays its audience whatever the new text mentions.
    if let Some(g) = current.group_id {
        if !mentioned.iter().any(|m| m.id == g) {
            mentioned.extend(store.account_by_id(g).await?);
        }
    }
    let now = now_millis();
    let mut row = current.clone();
    row.text = text.clone();
    row.content = render_html(node, &text, &mentioned);
    row.spoiler_text = input.spoiler_text.trim().to_string();
    row.sensitive = input.sensitive.unwrap_or(current.sensitive) || !row.spoiler_text.is_empty();
    row.language = input.language.clone().or(current.language.clone());
    row.edited_at = Some(now);
    // Those who reblogged it are told it changed.
    let rebloggers = store
        .status_actors(
            id,
            true,
            &Page {
                limit: 1000,
                ..Page::default()
            },
        )
        .await?;
    let notifications: Vec<NewNotification> = rebloggers
        .iter()
        .filter(|(_, a)| *a != author.id)
        .map(|(_, a)| NewNotification {
            report_id: None,
            id: crate::ids::next_id(),
            account_id: *a,
            from_account_id: author.id,
            kind: "update",
            status_id: Some(id),
        })
        .collect();
    let tags = text::hashtags(&text);
    let parent = match current.in_reply_to_id {
        Some(p) => store.status_by_id(p).await?,
        None => None,
    };
    // A poll stays as posted: its votes were cast for those answers.
    let poll = store.poll(id).await?;
    if let Some(asked) = &input.poll {
        if !poll
            .as_ref()
            .is_some_and(|held| super::polls::unchanged(held, asked))
        {
            return Err(DomainError::Invalid(
                "Validation failed: A poll cannot be added or changed by an edit on this node"
                    .into(),
            ));
        }
    }
    let deliveries = outbound(
        node,
        &row,
        author,
        &mentioned,
        &tags,
        &input.media_ids,
        parent.as_ref(),
        poll.as_ref(),
        "Update",
    )
    .await?;
    let new = NewStatus {
        poll: None,
        conversation: None,
        row,
        mentions: mentioned.iter().map(|a| a.id).collect(),
        tags: tags.clone(),
        media_ids: input.media_ids.clone(),
        feed_recipients: vec![],
        notifications: notifications.clone(),
        idempotency_key: None,
        deliveries,
    };
    store
        .edit_status(&current, &current_media, &new, current.edited_at.is_none())
        .await?;
    super::federation::outbound::wake_deliveries(node, !new.deliveries.is_empty());
    let audience = audience_of(node, &current).await?;
    node.hub.publish(Event::Status {
        status_id: id,
        edited: true,
        audience,
    });
    node.hub.notified(&notifications);
    Ok(())
}

/// Whose home feeds a new status enters: the author's local followers (and, for a direct
/// status, the mentioned accounts), narrowed by the audience rules for replies. Posting and
/// inbound notes both ask here.
pub(crate) async fn home_recipients(
    node: &Node,
    status_audience: Audience,
    author: i64,
    reply_to_account: Option<i64>,
    mentioned: &[i64],
    tags: &[String],
) -> Result<Vec<i64>, DomainError> {
    let store = &node.store;
    let followers = store.follower_ids(author).await?;
    let followers_of_replied: HashSet<i64> = match reply_to_account {
        Some(other) if other != author => store.follower_ids(other).await?.into_iter().collect(),
        _ => HashSet::new(),
    };
    let followers: Vec<(i64, bool)> = followers
        .into_iter()
        .map(|f| (f, followers_of_replied.contains(&f)))
        .collect();
    let mut out = audience::home_recipients(
        status_audience,
        author,
        reply_to_account,
        &followers,
        mentioned,
    );
    // Those who follow one of its hashtags, where the hashtag's timeline would list it.
    if audience::reaches(
        status_audience,
        Some(Relation::STRANGER),
        audience::Surface::Hashtag(Origin::Local),
    ) && !tags.is_empty()
    {
        out.extend(store.tag_followers(tags).await?);
        out.sort_unstable();
        out.dedup();
    }
    Ok(out)
}

/// Who saw a status, for update and delete events (local or remote).
pub(crate) async fn audience_of(
    node: &Node,
    row: &StatusRow,
) -> Result<audience::StreamAudience, DomainError> {
    let store = &node.store;
    let author = store
        .account_by_id(row.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let origin = if author.is_local() {
        Origin::Local
    } else {
        Origin::Remote
    };
    let mentioned: Vec<i64> = store
        .mentions_of(&[row.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let mut home = match row.reblog_of_id {
        Some(_) => store.follower_ids_showing_reblogs(row.account_id).await?,
        None => store.follower_ids(row.account_id).await?,
    };
    home.push(row.account_id);
    if row.visibility == Scope::Direct {
        home = mentioned.clone();
        home.push(row.account_id);
    }
    let tags = store
        .tags_of(&[row.id])
        .await?
        .into_iter()
        .map(|(_, t)| t.to_lowercase())
        .collect();
    let with_media = !store.media_of_statuses(&[row.id]).await?.is_empty();
    Ok(audience::stream_audience(StatusFacts {
        audience: row.audience(),
        origin,
        author: row.account_id,
        home,
        mentioned: &mentioned,
        tags,
        with_media,
    }))
}

/// Deletes the author's own status (or reblog). Returns it as it was, with its source text,
/// so apps can offer "delete and redraft".
pub async fn delete(node: &Node, author: &AccountRow, id: i64) -> Result<StatusView, DomainError> {
    let row = node
        .store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == author.id)
        .ok_or(DomainError::NotFound("status"))?;
    let mut rendered = view(node, author, id).await?;
    rendered.source_text = Some(row.text.clone());
    let audience = audience_of(node, &row).await?;
    let mut deliveries = super::federation::outbound::delete_deliveries(node, &row, author).await?;
    deliveries.extend(
        super::group_posts::relay_change(
            node,
            &row,
            fika_federation::protocol::ActivityKind::Delete,
        )
        .await?,
    );
    // Peers that held it are answered 410 Gone from now on; a status no peer may know of
    // leaves no tombstone, so a peer's fetch of it stays a 404.
    let tombstone = match row.reblog_of_id {
        None if audience::known_to_peers(row.audience()) => {
            Some(super::federation::outbound::status_uri(node, &row).await?)
        }
        _ => None,
    };
    let deleted = node
        .store
        .delete_status(id, tombstone.as_deref(), &deliveries)
        .await?;
    super::federation::outbound::wake_deliveries(node, deleted && !deliveries.is_empty());
    node.hub.publish(Event::Delete {
        status_id: id,
        audience,
    });
    Ok(rendered)
}

pub async fn favourite(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    on: bool,
) -> Result<StatusView, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let target = match row.reblog_of_id {
        Some(t) => node
            .store
            .status_by_id(t)
            .await?
            .ok_or(DomainError::NotFound("status"))?,
        None => row,
    };
    let author = node
        .store
        .account_by_id(target.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    if on {
        let note = (author.id != viewer.id && author.is_local()).then(|| NewNotification {
            report_id: None,
            id: crate::ids::next_id(),
            account_id: author.id,
            from_account_id: viewer.id,
            kind: "favourite",
            status_id: Some(target.id),
        });
        let deliveries = like_deliveries(node, viewer, &target, &author, false).await?;
        let created = node
            .store
            .favourite(viewer.id, target.id, None, note.clone(), &deliveries)
            .await?;
        if created {
            node.hub.notified(&note);
        }
        super::federation::outbound::wake_deliveries(node, created && !deliveries.is_empty());
    } else {
        let deliveries = like_deliveries(node, viewer, &target, &author, true).await?;
        let removed = node
            .store
            .unfavourite(viewer.id, target.id, &deliveries)
            .await?;
        super::federation::outbound::wake_deliveries(node, removed && !deliveries.is_empty());
    }
    view(node, viewer, target.id).await
}

/// What tells a remote author about a favourite (a Like) or its withdrawal (Undo Like).
async fn like_deliveries(
    node: &Node,
    viewer: &AccountRow,
    status: &StatusRow,
    author: &AccountRow,
    undo: bool,
) -> Result<Vec<crate::store::deliveries::NewDelivery>, DomainError> {
    // A local author needs no Like; a status no peer may know of sends none.
    if author.is_local() || !audience::known_to_peers(status.audience()) {
        return Ok(vec![]);
    }
    let like = super::federation::outbound::like_activity(node, viewer, status).await?;
    let activity = if undo {
        super::federation::outbound::undo(node, viewer, like)
    } else {
        like
    };
    Ok(super::federation::outbound::deliveries_to(
        node, viewer, author, &activity,
    ))
}

pub async fn bookmark(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    on: bool,
) -> Result<StatusView, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    node.store.bookmark(viewer.id, target, on).await?;
    view(node, viewer, target).await
}

/// Reblogs a status; returns the reblog (the wrapper status), as Mastodon does.
pub async fn reblog(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    visibility: Option<Scope>,
) -> Result<StatusView, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let target = match row.reblog_of_id {
        Some(t) => visible_status(node, Some(viewer), t).await?,
        None => row,
    };
    if !audience::may_reblog(target.audience()) {
        return Err(DomainError::Invalid(
            "This status cannot be reblogged: its audience was chosen by its author".into(),
        ));
    }
    if let Some(existing) = node.store.reblog_by(viewer.id, target.id).await? {
        return view(node, viewer, existing).await;
    }
    let wrapper = audience::reblog_audience(visibility, target.audience())
        .map_err(|e| DomainError::Invalid(e.into()))?;
    let id = crate::ids::next_id();
    let mut home = node.store.follower_ids_showing_reblogs(viewer.id).await?;
    home.push(viewer.id);
    // Followers who follow the original author already have it in their home.
    let notification = (target.account_id != viewer.id).then(|| NewNotification {
        report_id: None,
        id: crate::ids::next_id(),
        account_id: target.account_id,
        from_account_id: viewer.id,
        kind: "reblog",
        status_id: Some(target.id),
    });
    let row = StatusRow {
        id,
        account_id: viewer.id,
        uri: None,
        url: None,
        text: String::new(),
        content: String::new(),
        spoiler_text: String::new(),
        sensitive: false,
        visibility: wrapper.scope,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(target.id),
        app_name: None,
        app_website: None,
        created_at: now_millis(),
        edited_at: None,
        locality: wrapper.locality,
        group_id: None,
    };
    let deliveries =
        super::federation::outbound::announce_deliveries(node, &row, viewer, &target).await?;
    let new = NewStatus {
        poll: None,
        conversation: None,
        row,
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: notification.iter().cloned().collect(),
        idempotency_key: None,
        deliveries,
    };
    match node.store.insert_status(&new).await {
        Ok(queued) => {
            if queued {
                node.fanout_wake.notify_one();
            }
            super::federation::outbound::wake_deliveries(node, !new.deliveries.is_empty());
        }
        // Two reblogs at once: the other one won, return it.
        Err(crate::store::StoreError::Conflict(_)) => {
            if let Some(existing) = node.store.reblog_by(viewer.id, target.id).await? {
                return view(node, viewer, existing).await;
            }
        }
        Err(e) => return Err(e.into()),
    }
    node.hub.publish(Event::Status {
        status_id: id,
        edited: false,
        audience: audience::reblog_stream_audience(audience::immediate_home(viewer.id, &home)),
    });
    node.hub.notified(&notification);
    view(node, viewer, id).await
}

/// Undoes a reblog; returns the original status.
pub async fn unreblog(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<StatusView, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    if let Some(wrapper) = node.store.reblog_by(viewer.id, target).await? {
        if let Some(wrapper_row) = node.store.status_by_id(wrapper).await? {
            let audience = audience_of(node, &wrapper_row).await?;
            let deliveries =
                super::federation::outbound::delete_deliveries(node, &wrapper_row, viewer).await?;
            let deleted = node.store.delete_status(wrapper, None, &deliveries).await?;
            super::federation::outbound::wake_deliveries(node, deleted && !deliveries.is_empty());
            node.hub.publish(Event::Delete {
                status_id: wrapper,
                audience,
            });
        }
    }
    view(node, viewer, target).await
}

/// The thread around a status: ancestors oldest first, then descendants in order.
pub async fn context(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<ContextView, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let mut ancestors = Vec::new();
    let mut parent = row.in_reply_to_id;
    while let Some(p) = parent {
        if ancestors.len() >= 100 || ancestors.contains(&p) {
            break;
        }
        match node.store.status_by_id(p).await? {
            Some(r) => {
                ancestors.push(r.id);
                parent = r.in_reply_to_id;
            }
            None => break,
        }
    }
    ancestors.reverse();
    let descendants = node.store.descendants(row.id).await?;
    // Replies by people the viewer blocks or mutes stay out of the thread, as on Mastodon.
    let hidden = super::blocks::hidden(node, viewer, Hiding::Statuses).await?;
    let shown = |list: Vec<StatusView>| -> Vec<StatusView> {
        list.into_iter()
            .filter(|v| !super::blocks::hides(&hidden, v))
            .collect()
    };
    Ok(ContextView {
        ancestors: shown(
            views_in(node, viewer, &ancestors, super::filters::Context::Thread).await?,
        ),
        descendants: shown(
            views_in(node, viewer, &descendants, super::filters::Context::Thread).await?,
        ),
    })
}

/// The versions of a status, oldest first (one entry if it was never edited).
pub async fn history(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<Vec<StatusEditView>, DomainError> {
    let row = visible_status(node, Some(viewer), id).await?;
    let author = node
        .store
        .account_by_id(row.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let counts = node.store.account_counts(&[author.id]).await?;
    let account = AccountView {
        counts: counts.get(&author.id).copied().unwrap_or_default(),
        row: author,
    };
    let edits = node.store.status_edits(id).await?;
    if edits.is_empty() {
        let media = node.store.media_of_statuses(&[id]).await?;
        return Ok(vec![StatusEditView {
            content: row.content,
            spoiler_text: row.spoiler_text,
            sensitive: row.sensitive,
            created_at: row.created_at,
            account,
            media,
        }]);
    }
    let mut out = Vec::new();
    for e in edits {
        let ids: Vec<i64> = serde_json::from_str::<Vec<String>>(&e.media_ids)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        let media = node.store.media_by_ids(&ids).await?;
        out.push(StatusEditView {
            content: e.content,
            spoiler_text: e.spoiler_text,
            sensitive: e.sensitive,
            created_at: e.created_at,
            account: account.clone(),
            media,
        });
    }
    Ok(out)
}

pub async fn source(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<StatusSourceView, DomainError> {
    let row = node
        .store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == viewer.id)
        .ok_or(DomainError::NotFound("status"))?;
    Ok(StatusSourceView {
        id: row.id,
        text: row.text,
        spoiler_text: row.spoiler_text,
    })
}
