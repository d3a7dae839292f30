//! Stored rows to Mastodon client API entities. Every key a strict client (Tusky's generated
//! adapters) requires is always present, with `null`, `""` or `[]` where allowed.

use serde_json::{json, Value};

use super::{rfc3339_millis, text::plain_to_html, NodeUrls};
use crate::convert::activitypub::profile_fields;
use crate::store::accounts::{AccountCounts, AccountRow};
use crate::store::filters::{FilterRow, FilterSet, FilterStatusRow, KeywordRow};
use crate::store::media::MediaRow;
use crate::store::oauth::AppRow;
use crate::store::policy::{AuditRow, DomainRow};
use crate::store::social::MarkerRow;
use crate::store::statuses::StatusRow;

use super::views::{
    AccountView, AdminAccountView, AdminReportView, ContextView, ConversationView, CredentialView,
    FeaturedTagView, FilterResultView, InstanceLimits, InstanceView, IssuedToken, NotificationView,
    PollView, RelationshipView, ReportView, StatusEditView, StatusSourceView, StatusView,
};

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

/// The account's avatar: the remote one, the uploaded one, or the default.
pub fn avatar(row: &AccountRow, urls: &NodeUrls) -> String {
    row.avatar_url
        .clone()
        .unwrap_or_else(|| image_url(urls, &row.avatar_path, "/static/avatar.png"))
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
    let avatar = avatar(row, urls);
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
        "group": row.is_group,
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
        "limited": counts.limited.then_some(true),
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
    let role = row.effective_role();
    let (id, permissions) = match role {
        "admin" => ("3", "1048575"),
        "moderator" => ("2", "1332"),
        // invite_users and manage_announcements, as Mastodon numbers its permissions
        "communicator" => ("4", "73728"),
        _ => ("-99", "65536"),
    };
    v["role"] = json!({
        "id": id,
        "name": if role == "user" { "" } else { role },
        "color": "",
        "permissions": permissions,
        "highlighted": role != "user",
    });
    v
}

/// A status waiting to be posted (Mastodon's ScheduledStatus).
pub fn scheduled_status(v: &crate::convert::views::ScheduledView, urls: &NodeUrls) -> Value {
    let p = &v.params;
    json!({
        "id": v.row.id.to_string(),
        "scheduled_at": rfc3339_millis(v.row.scheduled_at),
        "params": {
            "text": p.text,
            "spoiler_text": (!p.spoiler_text.is_empty()).then_some(&p.spoiler_text),
            "sensitive": p.sensitive,
            "visibility": p.visibility,
            "language": p.language,
            "in_reply_to_id": p.in_reply_to_id.map(|i| i.to_string()),
            "media_ids": (!p.media_ids.is_empty())
                .then(|| p.media_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>()),
            "poll": p.poll.as_ref().map(|poll| json!({
                "options": poll.options,
                "expires_in": poll.expires_in.to_string(),
                "multiple": poll.multiple,
                "hide_totals": poll.hide_totals,
            })),
            "scheduled_at": null,
            "idempotency": null,
            "with_rate_limit": false,
            "application_id": null,
            "local_only": p.local_only,
        },
        "media_attachments": v.media.iter().map(|m| media(m, urls)).collect::<Vec<_>>(),
    })
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

/// A hashtag with the viewer's follow and its history (the Tag entity in full).
pub fn tag_view(t: &crate::convert::views::TagView, urls: &NodeUrls) -> Value {
    let mut v = tag(&t.display, urls);
    v["following"] = json!(t.following);
    v["history"] = json!(t
        .history
        .iter()
        .map(|(day, uses, accounts)| json!({
            "day": (day * 86_400).to_string(),
            "uses": uses.to_string(),
            "accounts": accounts.to_string(),
        }))
        .collect::<Vec<_>>());
    v
}

/// The List entity.
pub fn list(l: &crate::store::lists::ListRow) -> Value {
    json!({
        "id": l.id.to_string(),
        "title": l.title,
        "replies_policy": l.replies_policy.as_str(),
        "exclusive": l.exclusive,
    })
}

pub fn lists(ls: &[crate::store::lists::ListRow]) -> Vec<Value> {
    ls.iter().map(list).collect()
}

pub fn tag(display: &str, urls: &NodeUrls) -> Value {
    json!({
        "name": display,
        "url": urls.tag(display).to_string(),
        "history": [],
        "following": false,
    })
}

/// A featured hashtag, as Mastodon renders it: the count as a string, the last use as a day.
/// Its URL is the account's posts with that tag, under the account's page on this node.
pub fn featured_tag(t: &FeaturedTagView, urls: &NodeUrls) -> Value {
    let mut url = urls.profile(&acct(&t.account));
    url.set_path(&format!("{}/tagged/{}", url.path(), t.tag.name));
    json!({
        "id": t.tag.id.to_string(),
        "name": t.tag.display,
        "url": url.to_string(),
        "statuses_count": t.tag.statuses_count.to_string(),
        "last_status_at": t.tag.last_status_at.map(|ms| rfc3339_millis(ms)[..10].to_string()),
    })
}

/// A group hosted here: its account entity (`group: true`), whether it is private, who may
/// post, and its moderators.
pub fn group(g: &crate::convert::views::GroupView, urls: &NodeUrls) -> Value {
    json!({
        "id": g.account.row.id.to_string(),
        "account": account(&g.account.row, &g.account.counts, urls),
        "private": g.account.row.locked,
        "posting": g.posting,
        "members_count": g.account.counts.followers,
        "moderators": g.moderators.iter().map(|(a, role)| json!({
            "role": role,
            "account": account(&a.row, &a.counts, urls),
        })).collect::<Vec<_>>(),
    })
}

pub fn featured_tags(tags: &[FeaturedTagView], urls: &NodeUrls) -> Vec<Value> {
    tags.iter().map(|t| featured_tag(t, urls)).collect()
}

pub fn status_uri(row: &StatusRow, account: &AccountRow, urls: &NodeUrls) -> String {
    row.uri
        .clone()
        .unwrap_or_else(|| urls.status(&account.username, row.id).to_string())
}

/// A hashtag as a status lists it (no history).
fn status_tag(display: &str, urls: &NodeUrls) -> Value {
    json!({"name": display, "url": urls.tag(display).to_string()})
}

/// Mastodon's Poll. Counts hidden until the end (`hide_totals`) show to its author and once
/// it ended.
pub fn poll(p: &PollView) -> Value {
    let row = &p.row;
    let expired = row.expired(crate::store::now_millis());
    let show_counts = !row.hide_totals || expired || p.own_poll;
    let options: Vec<Value> = row
        .options
        .iter()
        .map(|o| json!({"title": o.title, "votes_count": show_counts.then_some(o.votes_count)}))
        .collect();
    let mut v = json!({
        "id": row.status_id.to_string(),
        "expires_at": row.expires_at.map(rfc3339_millis),
        "expired": expired,
        "multiple": row.multiple,
        "votes_count": row.votes_count(),
        "voters_count": row.voters_count,
        "options": options,
        "emojis": [],
    });
    if let Some(own) = &p.own_votes {
        v["voted"] = json!(p.own_poll || !own.is_empty());
        v["own_votes"] = json!(own);
    }
    v
}

/// Mastodon's Filter (v2), with its keywords and statuses when `rules` (the filters API; a
/// status's `filtered` leaves them out).
pub fn filter(f: &FilterRow, rules: Option<(&[KeywordRow], &[FilterStatusRow])>) -> Value {
    let mut v = json!({
        "id": f.id.to_string(),
        "title": f.title,
        "context": f.contexts().collect::<Vec<_>>(),
        "expires_at": f.expires_at.map(rfc3339_millis),
        "filter_action": f.action,
    });
    if let Some((keywords, statuses)) = rules {
        v["keywords"] = json!(keywords.iter().map(filter_keyword).collect::<Vec<_>>());
        v["statuses"] = json!(statuses.iter().map(filter_status).collect::<Vec<_>>());
    }
    v
}

pub fn filter_set(set: &FilterSet) -> Value {
    filter(&set.filter, Some((&set.keywords, &set.statuses)))
}

pub fn filter_keyword(k: &KeywordRow) -> Value {
    json!({"id": k.id.to_string(), "keyword": k.keyword, "whole_word": k.whole_word})
}

pub fn filter_status(s: &FilterStatusRow) -> Value {
    json!({"id": s.id.to_string(), "status_id": s.status_id.to_string()})
}

/// A v1 filter: one keyword of a filter.
pub fn filter_v1(f: &FilterRow, k: &KeywordRow) -> Value {
    json!({
        "id": k.id.to_string(),
        "phrase": k.keyword,
        "context": f.contexts().collect::<Vec<_>>(),
        "whole_word": k.whole_word,
        "expires_at": f.expires_at.map(rfc3339_millis),
        "irreversible": f.action == "hide",
    })
}

fn filter_result(r: &FilterResultView) -> Value {
    json!({
        "filter": filter(&r.filter, None),
        "keyword_matches": (!r.keyword_matches.is_empty()).then_some(&r.keyword_matches),
        "status_matches": (!r.status_matches.is_empty())
            .then(|| r.status_matches.iter().map(|i| i.to_string()).collect::<Vec<_>>()),
    })
}

pub fn status(s: &StatusView, urls: &NodeUrls) -> Value {
    let r = &s.row;
    let author = &s.author;
    let uri = status_uri(r, author, urls);
    let url = r.url.clone().or_else(|| {
        author
            .domain
            .is_empty()
            .then(|| urls.status_page(&author.username, r.id).to_string())
    });
    let application = r
        .app_name
        .as_ref()
        .map(|name| json!({"name": name, "website": r.app_website}));
    let media: Vec<Value> = s.media.iter().map(|m| media(m, urls)).collect();
    let mentions: Vec<Value> = s.mentions.iter().map(|a| mention(a, urls)).collect();
    let tags: Vec<Value> = s.tags.iter().map(|t| status_tag(t, urls)).collect();
    let mut v = json!({
        "id": r.id.to_string(),
        "uri": uri,
        "url": url,
        "created_at": rfc3339_millis(r.created_at),
        "edited_at": r.edited_at.map(rfc3339_millis),
        "account": account(author, &s.author_counts, urls),
        "content": r.content,
        // One of Mastodon's four, which every app knows; department-only is said beside it.
        "visibility": r.visibility.as_str(),
        "local_only": r.locality.is_local_only(),
        "sensitive": r.sensitive,
        "spoiler_text": r.spoiler_text,
        "language": r.language,
        "in_reply_to_id": r.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": r.in_reply_to_account_id.map(|i| i.to_string()),
        "reblog": s.reblog.as_deref().map(|b| status(b, urls)),
        "media_attachments": media,
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": null,
        "poll": s.poll.as_ref().map(poll),
        "application": application,
        "replies_count": s.counts.replies,
        "reblogs_count": s.counts.reblogs,
        "favourites_count": s.counts.favourites,
        "filtered": s.filtered.iter().map(filter_result).collect::<Vec<_>>(),
    });
    if let Some(m) = s.marks {
        v["favourited"] = json!(m.favourited);
        v["reblogged"] = json!(m.reblogged);
        v["bookmarked"] = json!(m.bookmarked);
        v["muted"] = json!(m.muted);
        if let Some(pinned) = m.pinned {
            v["pinned"] = json!(pinned);
        }
    }
    if let Some(text) = &s.source_text {
        v["text"] = json!(text);
    }
    v
}

/// Mastodon's Conversation.
pub fn conversation_entity(c: &ConversationView, urls: &NodeUrls) -> Value {
    json!({
        "id": c.row.conversation_id.to_string(),
        "unread": c.row.unread,
        "accounts": c.accounts.iter().map(|a| account_view(a, urls)).collect::<Vec<_>>(),
        "last_status": status(&c.last_status, urls),
    })
}

/// A direct status as the streaming API's `conversation` event: unread unless the viewer wrote it.
pub fn conversation(s: &StatusView, viewer_id: i64, urls: &NodeUrls) -> Value {
    let last = status(s, urls);
    json!({
        "id": s.row.id.to_string(),
        "unread": s.author.id != viewer_id,
        "accounts": [last["account"].clone()],
        "last_status": last,
    })
}

pub fn statuses(views: &[StatusView], urls: &NodeUrls) -> Vec<Value> {
    views.iter().map(|s| status(s, urls)).collect()
}

pub fn account_view(a: &AccountView, urls: &NodeUrls) -> Value {
    account(&a.row, &a.counts, urls)
}

pub fn accounts(views: &[AccountView], urls: &NodeUrls) -> Vec<Value> {
    views.iter().map(|a| account_view(a, urls)).collect()
}

pub fn credential(c: &CredentialView, urls: &NodeUrls) -> Value {
    credential_account(
        &c.account.row,
        &c.account.counts,
        urls,
        c.follow_requests_count,
    )
}

pub fn context(c: &ContextView, urls: &NodeUrls) -> Value {
    json!({
        "ancestors": statuses(&c.ancestors, urls),
        "descendants": statuses(&c.descendants, urls),
    })
}

pub fn source(s: &StatusSourceView) -> Value {
    json!({"id": s.id.to_string(), "text": s.text, "spoiler_text": s.spoiler_text})
}

pub fn relationship(r: &RelationshipView) -> Value {
    json!({
        "id": r.id.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": r.domain_blocking,
        "endorsed": r.endorsed,
        "note": "",
    })
}

pub fn relationships(views: &[RelationshipView]) -> Vec<Value> {
    views.iter().map(relationship).collect()
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

pub fn notification(n: &NotificationView, urls: &NodeUrls) -> Value {
    json!({
        "id": n.row.id.to_string(),
        "type": n.row.kind,
        "created_at": rfc3339_millis(n.row.created_at),
        "group_key": n.group_key,
        "account": account_view(&n.account, urls),
        "status": n.status.as_ref().map(|s| status(s, urls)),
        "report": n.report.as_ref().map(|r| report(r, urls)),
    })
}

/// `/api/v2/notifications`: the groups, with the accounts and statuses they name.
pub fn grouped_notifications(p: &super::views::GroupedPage, urls: &NodeUrls) -> Value {
    let groups: Vec<Value> = p
        .groups
        .iter()
        .map(|g| {
            json!({
                "group_key": g.key,
                "notifications_count": g.count,
                "type": g.kind,
                "most_recent_notification_id": g.most_recent_id.to_string(),
                "page_min_id": g.page_min_id.to_string(),
                "page_max_id": g.page_max_id.to_string(),
                "latest_page_notification_at": rfc3339_millis(g.latest_at),
                "sample_account_ids": id_strings(&g.sample_account_ids),
                "status_id": g.status_id.map(|s| s.to_string()),
                "report": g.report.as_ref().map(|r| report(r, urls)),
            })
        })
        .collect();
    json!({
        "accounts": accounts(&p.accounts, urls),
        "statuses": statuses(&p.statuses, urls),
        "notification_groups": groups,
    })
}

fn id_strings(ids: &[i64]) -> Vec<String> {
    ids.iter().map(|i| i.to_string()).collect()
}

/// Mastodon's Report, as its reporter sees it.
pub fn report(r: &ReportView, urls: &NodeUrls) -> Value {
    let row = &r.row;
    json!({
        "id": row.id.to_string(),
        "action_taken": row.action_taken_at.is_some(),
        "action_taken_at": row.action_taken_at.map(rfc3339_millis),
        "category": row.category,
        "comment": row.comment,
        "forwarded": row.forwarded,
        "created_at": rfc3339_millis(row.created_at),
        "status_ids": (!row.status_ids.is_empty()).then(|| id_strings(&row.status_id_list())),
        "rule_ids": (!row.rule_ids.is_empty()).then(|| id_strings(&row.rule_id_list())),
        "target_account": account_view(&r.target, urls),
    })
}

/// Mastodon's Admin::Account.
pub fn admin_account(a: &AdminAccountView, urls: &NodeUrls) -> Value {
    let row = &a.account.row;
    let m = &a.moderation;
    let role = row.effective_role();
    json!({
        "id": row.id.to_string(),
        "username": row.username,
        "domain": (!row.domain.is_empty()).then_some(&row.domain),
        "created_at": rfc3339_millis(row.created_at),
        "email": row.email.clone().unwrap_or_default(),
        "ip": null,
        "ips": [],
        "locale": row.default_language.clone().unwrap_or_default(),
        "invite_request": null,
        "role": {"id": role, "name": role, "color": "", "permissions": "0", "highlighted": role != "user"},
        "confirmed": true,
        "approved": true,
        "disabled": m.disabled,
        "silenced": m.silenced,
        "sensitized": m.sensitized,
        "suspended": row.suspended,
        "account": account_view(&a.account, urls),
        "created_by_application_id": null,
        "invited_by_account_id": null,
    })
}

/// Mastodon's Admin::Report.
pub fn admin_report(r: &AdminReportView, urls: &NodeUrls) -> Value {
    let row = &r.row;
    json!({
        "id": row.id.to_string(),
        "action_taken": row.action_taken_at.is_some(),
        "action_taken_at": row.action_taken_at.map(rfc3339_millis),
        "category": row.category,
        "comment": row.comment,
        "forwarded": row.forwarded,
        "created_at": rfc3339_millis(row.created_at),
        "updated_at": rfc3339_millis(row.updated_at),
        "account": admin_account(&r.account, urls),
        "target_account": admin_account(&r.target, urls),
        "assigned_account": r.assigned.as_ref().map(|a| admin_account(a, urls)),
        "action_taken_by_account": r.action_taken_by.as_ref().map(|a| admin_account(a, urls)),
        "statuses": r.statuses.iter().map(|s| status(s, urls)).collect::<Vec<_>>(),
        "rules": r.rules.iter().map(|(n, text)| json!({"id": n.to_string(), "text": text, "hint": ""})).collect::<Vec<_>>(),
    })
}

/// Mastodon's NotificationPolicy (v2: accept, filter or drop per kind of sender).
pub fn notification_policy(p: &crate::convert::views::NotificationPolicyView) -> Value {
    json!({
        "for_not_following": p.row.for_not_following,
        "for_not_followers": p.row.for_not_followers,
        "for_new_accounts": p.row.for_new_accounts,
        "for_private_mentions": p.row.for_private_mentions,
        "for_limited_accounts": p.row.for_limited_accounts,
        "summary": {
            "pending_requests_count": p.pending_requests,
            "pending_notifications_count": p.pending_notifications,
        },
    })
}

/// The v1 shape of the same: filtered or not (a drop counts as filtered).
pub fn notification_policy_v1(p: &crate::convert::views::NotificationPolicyView) -> Value {
    let filters = |answer: &str| answer != "accept";
    json!({
        "filter_not_following": filters(&p.row.for_not_following),
        "filter_not_followers": filters(&p.row.for_not_followers),
        "filter_new_accounts": filters(&p.row.for_new_accounts),
        "filter_private_mentions": filters(&p.row.for_private_mentions),
        "summary": {
            "pending_requests_count": p.pending_requests,
            "pending_notifications_count": p.pending_notifications,
        },
    })
}

/// Mastodon's NotificationRequest (its count is a string, as Mastodon sends it).
pub fn notification_request(
    r: &crate::convert::views::NotificationRequestView,
    urls: &NodeUrls,
) -> Value {
    json!({
        "id": r.row.id.to_string(),
        "created_at": rfc3339_millis(r.row.created_at),
        "updated_at": rfc3339_millis(r.row.updated_at),
        "account": account_view(&r.account, urls),
        "notifications_count": r.row.notifications_count.to_string(),
        "last_status": r.last_status.as_ref().map(|s| status(s, urls)),
    })
}

pub fn notifications(views: &[NotificationView], urls: &NodeUrls) -> Vec<Value> {
    views.iter().map(|n| notification(n, urls)).collect()
}

pub fn edit(e: &StatusEditView, urls: &NodeUrls) -> Value {
    let media: Vec<Value> = e.media.iter().map(|m| media(m, urls)).collect();
    json!({
        "content": e.content,
        "spoiler_text": e.spoiler_text,
        "sensitive": e.sensitive,
        "created_at": rfc3339_millis(e.created_at),
        "account": account_view(&e.account, urls),
        "poll": null,
        "media_attachments": media,
        "emojis": [],
    })
}

pub fn edits(views: &[StatusEditView], urls: &NodeUrls) -> Vec<Value> {
    views.iter().map(|e| edit(e, urls)).collect()
}

fn instance_version() -> String {
    format!(
        "{} (compatible; fika {})",
        fika_federation::nodeinfo::MASTODON_COMPAT_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

fn streaming_base(urls: &NodeUrls) -> String {
    let base = urls.api("");
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.trim_start_matches("http://")),
    }
}

const INSTANCE_DESCRIPTION: &str = "A fika node: the internal social network of this organisation.";

fn instance_configuration(limits: &InstanceLimits, urls: &NodeUrls) -> Value {
    json!({
        "urls": {"streaming": streaming_base(urls), "status": null},
        "vapid": {"public_key": limits.vapid_key},
        "accounts": {
            "max_featured_tags": crate::store::directory::MAX_FEATURED_TAGS,
            "max_pinned_statuses": limits.max_pinned_statuses,
        },
        "statuses": {
            "max_characters": limits.max_characters,
            "max_media_attachments": limits.max_media_attachments,
            "characters_reserved_per_url": 23,
            // Department-only statuses: accepted as `local_only` or `visibility: "local"`;
            // what a status without either gets.
            "local_only": true,
            "default_local_only": limits.default_local_only,
        },
        "media_attachments": {
            "supported_mime_types": limits.media_types,
            "description_limit": limits.description_limit,
            "image_size_limit": limits.image_size_limit,
            "image_matrix_limit": limits.image_matrix_limit,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": limits.poll_max_options,
            "max_characters_per_option": limits.poll_max_characters_per_option,
            "min_expiration": limits.poll_min_expiration,
            "max_expiration": limits.poll_max_expiration,
        },
        "translation": {"enabled": false},
        "timelines_access": {
            "live_feeds": {"local": "authenticated", "remote": "authenticated"},
            "hashtag_feeds": {"local": "authenticated", "remote": "authenticated"},
            "trending_link_feeds": {"local": "disabled", "remote": "disabled"},
        },
        "limited_federation": true,
    })
}

fn contact_account(i: &InstanceView, urls: &NodeUrls) -> Value {
    i.contact
        .as_ref()
        .map(|a| account_view(a, urls))
        .unwrap_or(Value::Null)
}

/// `GET /api/v2/instance`.
pub fn instance_v2(i: &InstanceView, urls: &NodeUrls) -> Value {
    json!({
        "domain": urls.domain,
        "title": i.title,
        "version": instance_version(),
        "source_url": urls.api("/"),
        "description": INSTANCE_DESCRIPTION,
        "usage": {"users": {"active_month": i.users}},
        "thumbnail": {"url": urls.api("/static/header.png"), "blurhash": null, "versions": {}},
        "icon": [],
        "languages": ["en"],
        "configuration": instance_configuration(&i.limits, urls),
        "registrations": {"enabled": false, "approval_required": true, "message": null, "url": null},
        "api_versions": {"mastodon": 2},
        "contact": {"email": "", "account": contact_account(i, urls)},
        "rules": instance_rules(&i.rules),
    })
}

/// The Rule entities.
pub fn instance_rules(rules: &[(usize, String)]) -> Value {
    Value::Array(
        rules
            .iter()
            .map(|(id, text)| json!({"id": id.to_string(), "text": text, "hint": ""}))
            .collect(),
    )
}

/// Languages statuses may be tagged with: ISO 639-1 codes and their English names.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("bg", "Bulgarian"),
    ("ca", "Catalan"),
    ("cs", "Czech"),
    ("cy", "Welsh"),
    ("da", "Danish"),
    ("de", "German"),
    ("el", "Greek"),
    ("en", "English"),
    ("eo", "Esperanto"),
    ("es", "Spanish"),
    ("et", "Estonian"),
    ("eu", "Basque"),
    ("fa", "Persian"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("ga", "Irish"),
    ("gl", "Galician"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hr", "Croatian"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("is", "Icelandic"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("lt", "Lithuanian"),
    ("lv", "Latvian"),
    ("ms", "Malay"),
    ("mt", "Maltese"),
    ("nb", "Norwegian Bokmål"),
    ("nl", "Dutch"),
    ("nn", "Norwegian Nynorsk"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sk", "Slovak"),
    ("sl", "Slovenian"),
    ("sq", "Albanian"),
    ("sr", "Serbian"),
    ("sv", "Swedish"),
    ("th", "Thai"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("vi", "Vietnamese"),
    ("zh", "Chinese"),
];

/// `GET /api/v1/instance`: the same facts in the older shape.
pub fn instance_v1(i: &InstanceView, urls: &NodeUrls) -> Value {
    let mut config = instance_configuration(&i.limits, urls);
    if let Some(c) = config.as_object_mut() {
        c.remove("urls");
    }
    json!({
        "uri": urls.domain,
        "title": i.title,
        "short_description": INSTANCE_DESCRIPTION,
        "description": INSTANCE_DESCRIPTION,
        "email": "",
        "version": instance_version(),
        "urls": {"streaming_api": streaming_base(urls)},
        "stats": {"user_count": i.users, "status_count": 0, "domain_count": 0},
        "thumbnail": urls.api("/static/header.png"),
        "languages": ["en"],
        "registrations": false,
        "approval_required": true,
        "invites_enabled": false,
        "configuration": config,
        "contact_account": contact_account(i, urls),
        "rules": instance_rules(&i.rules),
    })
}

/// A domain allow of the admin API, with fika's `tier`.
pub fn domain_allow(r: &DomainRow) -> Value {
    json!({
        "id": r.id.to_string(), "domain": r.domain, "created_at": rfc3339_millis(r.created_at),
        "tier": r.tier,
    })
}

/// A domain block of the admin API: fika's blocks are always full suspensions.
pub fn domain_block(r: &DomainRow) -> Value {
    json!({
        "id": r.id.to_string(), "domain": r.domain, "digest": hex_sha256(&r.domain),
        "created_at": rfc3339_millis(r.created_at), "severity": "suspend",
        "reject_media": true, "reject_reports": true,
        "private_comment": null, "public_comment": null, "obfuscate": false,
    })
}

fn hex_sha256(s: &str) -> String {
    openssl::sha::sha256(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One entry of fika's federation audit log.
pub fn audit_entry(a: &AuditRow) -> Value {
    json!({"id": a.id.to_string(), "at": rfc3339_millis(a.at), "actor": a.actor, "action": a.action, "domain": a.domain, "detail": a.detail})
}

/// Read markers keyed by timeline.
pub fn markers(rows: &[MarkerRow]) -> Value {
    let mut out = serde_json::Map::new();
    for m in rows {
        out.insert(
            m.timeline.clone(),
            json!({
                "last_read_id": m.last_read_id,
                "version": m.version,
                "updated_at": rfc3339_millis(m.updated_at),
            }),
        );
    }
    Value::Object(out)
}

/// A registered OAuth application; its credentials only right after registration.
pub fn application(app: &AppRow, with_secret: bool, vapid_key: &str) -> Value {
    let uris: Vec<&str> = app.redirect_uris.split('\n').collect();
    let scopes: Vec<&str> = app.scopes.split(' ').collect();
    let mut v = json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": scopes,
        "redirect_uri": app.redirect_uris,
        "redirect_uris": uris,
        "vapid_key": vapid_key,
    });
    if with_secret {
        v["client_id"] = json!(app.client_id);
        v["client_secret"] = json!(app.client_secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

/// A token as the token endpoint answers it.
pub fn token(t: &IssuedToken) -> Value {
    json!({
        "access_token": t.token,
        "token_type": "Bearer",
        "scope": t.scopes,
        "created_at": t.created_at / 1000,
    })
}

/// The signed-in user's posting and reading preferences; `default_local_only` is the node's
/// (there is no per-user setting yet).
pub fn preferences(row: &AccountRow, default_local_only: bool) -> Value {
    json!({
        "posting:default:visibility": row.default_privacy,
        "posting:default:local_only": default_local_only,
        "posting:default:sensitive": row.default_sensitive,
        "posting:default:language": row.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })
}

/// The Mastodon Announcement entity. A peer's is shown under its node's name.
pub fn announcement(v: &crate::convert::views::AnnouncementView, urls: &NodeUrls) -> Value {
    let row = &v.row;
    let content = if row.is_local() {
        row.content.clone()
    } else {
        format!(
            "<p><strong>{}</strong></p>{}",
            crate::convert::text::escape(&row.origin_name),
            row.content
        )
    };
    json!({
        "id": row.id.to_string(),
        "content": content,
        "starts_at": row.starts_at.map(rfc3339_millis),
        "ends_at": row.ends_at.map(rfc3339_millis),
        "all_day": row.all_day,
        "published": true,
        "published_at": rfc3339_millis(row.published_at),
        "updated_at": rfc3339_millis(row.updated_at),
        "read": v.read,
        "mentions": [],
        "statuses": [],
        "tags": v.tags.iter().map(|t| json!({"name": t, "url": urls.tag(t).to_string()})).collect::<Vec<_>>(),
        "emojis": [],
        "reactions": v.reactions.iter().map(|r| json!({
            "name": r.name, "count": r.count, "me": r.me, "url": null, "static_url": null,
        })).collect::<Vec<_>>(),
    })
}

fn node_counts(c: &crate::store::announcements::Counts) -> Value {
    json!({"reached": c.reached, "read": c.read, "reactions": c.reactions})
}

/// One of this node's announcements for its admins and communicators (fika's admin API): the
/// entity's fields, its source text and audience, and its counts per node and in total.
pub fn admin_announcement(
    v: &crate::convert::views::AnnouncementStatsView,
    urls: &NodeUrls,
) -> Value {
    let row = &v.row;
    json!({
        "id": row.id.to_string(),
        "text": row.text,
        "content": row.content,
        "audience": row.reach,
        "starts_at": row.starts_at.map(rfc3339_millis),
        "ends_at": row.ends_at.map(rfc3339_millis),
        "all_day": row.all_day,
        "published_at": rfc3339_millis(row.published_at),
        "updated_at": rfc3339_millis(row.updated_at),
        "withdrawn_at": row.withdrawn_at.map(rfc3339_millis),
        "reminded_at": row.reminded_at.map(rfc3339_millis),
        "author": v.author.as_ref().map(|a| account(a, &AccountCounts::default(), urls)),
        "total": node_counts(&v.total),
        "nodes": v.nodes.iter().map(|n| {
            let mut c = node_counts(&n.counts);
            c["node"] = json!(if n.node.is_empty() { "this" } else { n.node.as_str() });
            c["name"] = json!(n.name);
            c["updated_at"] = json!(n.updated_at.map(rfc3339_millis));
            c
        }).collect::<Vec<_>>(),
    })
}

/// A dashboard date as Mastodon writes it: midnight UTC with milliseconds and `+00:00`.
fn dashboard_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_string()
}

/// `Admin::Measure`: numbers as strings, as Mastodon sends them.
pub fn admin_measure(m: &super::views::MeasureView) -> Value {
    let mut v = json!({
        "key": m.key,
        "unit": m.unit,
        "total": m.total.to_string(),
        "data": m.data.iter().map(|(day, n)| json!({
            "date": dashboard_date(*day),
            "value": n.to_string(),
        })).collect::<Vec<_>>(),
    });
    if let Some(h) = &m.human_value {
        v["human_value"] = json!(h);
    }
    if let Some(p) = m.previous_total {
        v["previous_total"] = json!(p.to_string());
    }
    v
}

/// `Admin::Dimension`.
pub fn admin_dimension(d: &super::views::DimensionView) -> Value {
    let mut data: Vec<Value> = d
        .data
        .iter()
        .map(|(key, human, n, human_value)| {
            let mut item = json!({"key": key, "human_key": human, "value": n.to_string()});
            if let Some(u) = &d.unit {
                item["unit"] = json!(u);
            }
            if let Some(h) = human_value {
                item["human_value"] = json!(h);
            }
            item
        })
        .collect();
    data.extend(
        d.text_values
            .iter()
            .map(|(key, human, value)| json!({"key": key, "human_key": human, "value": value})),
    );
    json!({"key": d.key, "data": data})
}

/// `Admin::Cohort`.
pub fn admin_cohort(c: &super::views::RetentionView) -> Value {
    json!({
        "period": dashboard_date(c.period),
        "frequency": c.frequency,
        "data": c.data.iter().map(|(p, rate, n)| json!({
            "date": dashboard_date(*p),
            "rate": rate,
            "value": n.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// `Admin::Tag`: a tag with its id and review flags (fika reviews no tags: all usable).
pub fn admin_tag(t: &super::views::AdminTagView, urls: &NodeUrls) -> Value {
    let mut v = tag_view(&t.tag, urls);
    v["id"] = json!(t.id.to_string());
    v["trendable"] = json!(true);
    v["usable"] = json!(true);
    v["requires_review"] = json!(false);
    v["listable"] = json!(true);
    v
}

/// fika's insights for a week (`GET /api/v1/admin/insights`): this node's weekly figures, the
/// organisation's node × node matrix (`null`: no report, or fewer than the threshold), rising
/// hashtags and the groups spanning nodes. Counts as numbers; nothing names a person.
pub fn insights(v: &super::views::InsightsView) -> Value {
    json!({
        "week": v.label,
        "node": v.own,
        "threshold": v.threshold,
        "weeks": v.weeks.iter().map(|w| json!({
            "week": w.label,
            "active_users": w.active_users,
            "cross_node_active_users": w.cross_node_active_users,
            "interactions_inside": w.inside,
            "interactions_across": w.across,
            "peers": w.peers.iter().map(|(peer, sent, received, groups)| json!({
                "peer": peer, "sent": sent, "received": received, "shared_groups": groups,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "matrix": {
            "nodes": v.matrix.nodes,
            "reported": v.matrix.reported,
            "cells": v.matrix.cells,
        },
        "hashtags": v.rising.iter().map(|t| json!({
            "name": t.name,
            "uses": t.uses,
            "accounts": t.accounts,
            "previous_uses": t.previous_uses,
            "nodes": t.nodes,
        })).collect::<Vec<_>>(),
        "groups": v.groups.iter().map(|g| json!({
            "username": g.username,
            "display_name": g.display_name,
            "members": g.members.iter().map(|(node, n)| json!({"node": node, "members": n})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A follow suggestion (`/api/v2/suggestions`): why, in Mastodon's names, and the account.
pub fn suggestion(
    source: crate::store::suggestions::SuggestionSource,
    account: &AccountView,
    urls: &NodeUrls,
) -> Value {
    use crate::store::suggestions::SuggestionSource as S;
    let (source, sources) = match source {
        S::FriendsOfFriends => ("past_interactions", "friends_of_friends"),
        S::MostFollowed => ("global", "most_followed"),
    };
    json!({
        "source": source,
        "sources": [sources],
        "account": self::account(&account.row, &account.counts, urls),
    })
}

/// Mastodon's WebPushSubscription.
pub fn push_subscription(row: &crate::store::push::PushSubscriptionRow, server_key: &str) -> Value {
    let alerts: serde_json::Map<String, Value> = crate::store::push::ALERTS
        .iter()
        .map(|kind| {
            let on = crate::store::push::alert_on(&row.alerts, kind);
            (kind.to_string(), Value::Bool(on))
        })
        .collect();
    json!({
        "id": row.id.to_string(),
        "endpoint": row.endpoint,
        // Always RFC 8291 (aes128gcm) with VAPID, never the legacy drafts.
        "standard": true,
        "alerts": alerts,
        "policy": row.policy,
        "server_key": server_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::views::ViewerMarks;
    use crate::store::statuses::StatusCounts;

    fn account_row(id: i64, username: &str) -> AccountRow {
        AccountRow {
            id,
            username: username.into(),
            domain: String::new(),
            display_name: username.into(),
            note: String::new(),
            fields: "[]".into(),
            avatar_path: String::new(),
            header_path: String::new(),
            email: None,
            password_hash: None,
            private_key_pem: None,
            public_key_pem: String::new(),
            role: "user".into(),
            locked: false,
            discoverable: true,
            suspended: false,
            created_at: 0,
            updated_at: 0,
            bot: false,
            default_privacy: "public".into(),
            default_sensitive: false,
            default_language: None,
            ap_id: None,
            inbox_url: None,
            shared_inbox_url: None,
            followers_url: None,
            profile_url: None,
            key_id: None,
            avatar_url: None,
            header_url: None,
            fetched_at: None,
            is_group: false,
            communicator: false,
        }
    }

    fn direct_status(author: AccountRow) -> StatusView {
        StatusView {
            row: StatusRow {
                id: 7,
                account_id: author.id,
                uri: None,
                url: None,
                text: "@bo hi".into(),
                content: "<p>hi</p>".into(),
                spoiler_text: String::new(),
                sensitive: false,
                visibility: crate::domain::audience::Scope::Direct,
                language: None,
                in_reply_to_id: None,
                in_reply_to_account_id: None,
                reblog_of_id: None,
                app_name: None,
                app_website: None,
                created_at: 1_700_000_000_000,
                edited_at: None,
                locality: crate::domain::audience::Locality::Federated,
                group_id: None,
            },
            author,
            author_counts: AccountCounts::default(),
            counts: StatusCounts::default(),
            media: vec![],
            mentions: vec![account_row(2, "bo")],
            tags: vec!["Rust".into()],
            marks: Some(ViewerMarks::default()),
            reblog: None,
            source_text: None,
            poll: None,
            filtered: vec![],
        }
    }

    #[test]
    fn a_conversation_wraps_the_rendered_status() {
        let urls = NodeUrls::new("http", "127.0.0.1:8080").unwrap();
        let view = direct_status(account_row(1, "ada"));
        let last = status(&view, &urls);
        assert_eq!(
            last["tags"],
            json!([{"name": "Rust", "url": "http://127.0.0.1:8080/tags/rust"}])
        );
        assert_eq!(last["mentions"][0]["acct"], "bo");
        assert_eq!(last["favourited"], false);
        assert!(last.get("text").is_none());
        let for_recipient = conversation(&view, 2, &urls);
        assert_eq!(
            for_recipient,
            json!({"id": "7", "unread": true, "accounts": [last["account"].clone()], "last_status": last})
        );
        assert_eq!(conversation(&view, 1, &urls)["unread"], false);
    }

    #[test]
    fn redraft_carries_the_source_text() {
        let urls = NodeUrls::new("http", "127.0.0.1:8080").unwrap();
        let mut view = direct_status(account_row(1, "ada"));
        view.source_text = Some(view.row.text.clone());
        assert_eq!(status(&view, &urls)["text"], "@bo hi");
    }
}
