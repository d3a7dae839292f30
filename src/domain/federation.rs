//! Federation rules: which peers hear about what (outbound), and what an activity from a peer
//! does here (inbound). Remote accounts and statuses become rows like local ones, so the client
//! API and the visibility rules treat them the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use fika_federation::activities::{self, id_of, type_of, Note, RemoteActor};
use fika_federation::policy::url_domain;
use fika_federation::protocol;

use crate::convert::activitypub::{self as convert, NoteParts};
use openssl::pkey::{PKey, Private};
use serde_json::{json, Value};
use tokio::sync::Notify;
use url::Url;

use super::audience::{self, Origin, Scope, StatusFacts};
use super::events::Event;
use super::{DomainError, Node};
use crate::net::{Net, NetError, Signer};
use crate::store::accounts::AccountRow;
use crate::store::federation::{NewDelivery, RemoteAccount};
use crate::store::now_millis;
use crate::store::statuses::{NewNotification, NewStatus, StatusRow};

/// Refetch a remote actor's profile after this long.
const ACTOR_TTL_MS: i64 = 24 * 3600 * 1000;

/// Federation machinery shared by the node: the HTTP client with its policy, the node's own
/// signing key, parsed user keys, remote signers' keys, and the delivery and inbox workers'
/// wake-ups.
pub struct Fed {
    pub net: Net,
    pub node_signer: Signer,
    keys: Mutex<HashMap<i64, Arc<PKey<Private>>>>,
    /// Inbound signature checks: parsed public keys and the refetch limit.
    pub signer_keys: super::signer_keys::SignerKeys,
    pub wake: Notify,
    /// Wakes the inbox worker (`jobs::inbox`) when an activity was queued.
    pub inbox_wake: Notify,
}

impl Fed {
    pub fn new(net: Net, node_signer: Signer) -> Fed {
        Fed {
            net,
            node_signer,
            keys: Mutex::new(HashMap::new()),
            signer_keys: Default::default(),
            wake: Notify::new(),
            inbox_wake: Notify::new(),
        }
    }
}

impl From<NetError> for DomainError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::Refused(m) => DomainError::Invalid(format!("Refused: {m}")),
            e @ (NetError::Transport { .. } | NetError::Status { .. }) if !e.is_permanent() => {
                DomainError::Unavailable(e.to_string())
            }
            other => DomainError::Invalid(other.to_string()),
        }
    }
}

/// The key a local account signs with (parsed once, then cached).
pub fn signer_for(node: &Node, account: &AccountRow) -> Result<Signer, DomainError> {
    let key_id =
        fika_federation::actor::main_key_id(&node.urls.actor(&account.username)).to_string();
    let mut cache = node.fed.keys.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = cache.get(&account.id) {
        return Ok(Signer {
            key_id,
            key: k.clone(),
        });
    }
    let pem = account
        .private_key_pem
        .as_deref()
        .ok_or_else(|| DomainError::Internal(format!("{} has no private key", account.username)))?;
    let key = Arc::new(
        fika_federation::signatures::parse_private_key(pem)
            .map_err(|e| DomainError::Internal(e.to_string()))?,
    );
    cache.insert(account.id, key.clone());
    Ok(Signer { key_id, key })
}

/// An account's AS2 id (remote ones keep theirs; local ones derive it from the domain).
pub fn actor_id(node: &Node, account: &AccountRow) -> String {
    actor_id_at(&node.urls, account)
}

pub use crate::convert::activitypub::actor_id as actor_id_at;

/// The local account an actor URL of ours names.
pub async fn local_account_by_url(
    node: &Node,
    url: &str,
) -> Result<Option<AccountRow>, DomainError> {
    let Ok(u) = Url::parse(url) else {
        return Ok(None);
    };
    if u.origin() != node.urls.base.origin() {
        return Ok(None);
    }
    let path = u.path().trim_end_matches('/');
    let Some(name) = path.strip_prefix("/users/").filter(|n| !n.contains('/')) else {
        return Ok(None);
    };
    super::accounts::find_local(&node.store, name).await
}

/// The account (local or known remote) an actor URL names, without fetching.
pub async fn known_account(node: &Node, url: &str) -> Result<Option<AccountRow>, DomainError> {
    if let Some(local) = local_account_by_url(node, url).await? {
        return Ok(Some(local));
    }
    Ok(node.store.account_by_ap_id(url).await?)
}

/// A local status an AS2 id of ours names.
fn local_status_id(node: &Node, uri: &str) -> Option<i64> {
    let u = Url::parse(uri).ok()?;
    if u.origin() != node.urls.base.origin() {
        return None;
    }
    let mut parts = u.path().trim_matches('/').split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("users"), Some(_), Some("statuses"), Some(id), None) => id.parse().ok(),
        _ => None,
    }
}

/// The status (local or known remote) an AS2 id names.
pub async fn known_status(node: &Node, uri: &str) -> Result<Option<StatusRow>, DomainError> {
    if let Some(id) = local_status_id(node, uri) {
        return Ok(node.store.status_by_id(id).await?);
    }
    Ok(node.store.status_by_uri(uri).await?)
}

fn sanitize(html: &str) -> String {
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

fn remote_account(actor: &RemoteActor, domain: String) -> RemoteAccount {
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
        avatar_url: actor.icon.clone(),
        header_url: actor.image.clone(),
    }
}

/// Fetches an actor (signed by the node) and stores it. Its id must be on the host it was
/// fetched from, so one peer cannot plant actors for another.
pub async fn fetch_actor(node: &Node, url: &str) -> Result<AccountRow, DomainError> {
    let (parsed, domain) = node.fed.net.check(url)?;
    let doc = node
        .fed
        .net
        .get_json(parsed.as_str(), &node.fed.node_signer)
        .await?;
    // A fragment-less keyId (GoToSocial) may dereference to the key; its owner is the actor.
    let doc = if doc.get("publicKeyPem").is_some() && doc.get("inbox").is_none() {
        let owner = doc
            .get("owner")
            .and_then(Value::as_str)
            .ok_or_else(|| DomainError::Invalid(format!("key {url} has no owner")))?
            .to_string();
        node.fed.net.get_json(&owner, &node.fed.node_signer).await?
    } else {
        doc
    };
    let actor = activities::parse_actor(&doc)
        .map_err(|e| DomainError::Invalid(format!("actor {url}: {e}")))?;
    let actor_domain = Url::parse(&actor.id)
        .ok()
        .and_then(|u| url_domain(&u))
        .ok_or_else(|| DomainError::Invalid(format!("actor id {} is not a URL", actor.id)))?;
    if actor_domain != domain {
        return Err(DomainError::Invalid(format!(
            "actor {} is not on {domain}, where it was fetched",
            actor.id
        )));
    }
    crate::domain::accounts::validate_username(&actor.preferred_username).or_else(|_| {
        // Other servers allow dots and dashes; keep those, refuse anything else.
        actor
            .preferred_username
            .chars()
            .all(|c| c.is_alphanumeric() || "_.-:".contains(c))
            .then_some(())
            .ok_or_else(|| DomainError::Invalid("unusable preferredUsername".into()))
    })?;
    Ok(node
        .store
        .upsert_remote_account(&remote_account(&actor, domain))
        .await?)
}

/// A remote actor by URL: from the store while fresh, else fetched.
pub async fn resolve_actor(node: &Node, url: &str) -> Result<AccountRow, DomainError> {
    if let Some(local) = local_account_by_url(node, url).await? {
        return Ok(local);
    }
    if let Some(a) = node.store.account_by_ap_id(url).await? {
        if a.fetched_at.unwrap_or(0) + ACTOR_TTL_MS > now_millis() {
            return Ok(a);
        }
        return match fetch_actor(node, url).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => {
                tracing::warn!(actor = url, error = %e, "refresh failed, using the stored actor");
                Ok(a)
            }
        };
    }
    fetch_actor(node, url).await
}

/// `user@domain` to an account, via WebFinger when not known yet.
pub async fn resolve_acct(
    node: &Node,
    user: &str,
    domain: &str,
) -> Result<AccountRow, DomainError> {
    if let Some(a) = node.store.remote_account_by_acct(user, domain).await? {
        return Ok(a);
    }
    let url = node.fed.net.webfinger(user, domain).await?;
    resolve_actor(node, &url).await
}

// ---------------------------------------------------------------------------------------------
// Outbound

fn activity_id(node: &Node, account: &AccountRow, kind: &str) -> String {
    format!(
        "{}#{kind}/{}",
        node.urls.actor(&account.username),
        crate::ids::next_id()
    )
}

/// One delivery per peer node: the shared inbox when a peer has one.
fn per_peer(
    node: &Node,
    targets: impl IntoIterator<Item = (String, String)>,
    activity: &Value,
    signer: i64,
) -> Vec<NewDelivery> {
    let mut by_peer: BTreeMap<String, String> = BTreeMap::new();
    for (domain, inbox) in targets {
        if !node.fed.net.allows(&domain) {
            tracing::info!(peer = %domain, "not delivering to a peer the policy refuses");
            continue;
        }
        by_peer.entry(domain).or_insert(inbox);
    }
    let body = activity.to_string();
    by_peer
        .into_iter()
        .map(|(peer, inbox)| NewDelivery {
            peer,
            inbox,
            activity: body.clone(),
            signer_id: signer,
        })
        .collect()
}

fn inbox_of(a: &AccountRow) -> Option<(String, String)> {
    let inbox = a.shared_inbox_url.clone().or_else(|| a.inbox_url.clone())?;
    Some((a.domain.clone(), inbox))
}

/// The AS2 Note for a stored local status.
pub async fn note(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<protocol::Note, DomainError> {
    let store = &node.store;
    let mentioned = store
        .accounts_by_ids(
            &store
                .mentions_of(&[status.id])
                .await?
                .into_iter()
                .map(|(_, a)| a)
                .collect::<Vec<_>>(),
        )
        .await?;
    let tags: Vec<String> = store
        .tags_of(&[status.id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let media = store.media_of_statuses(&[status.id]).await?;
    let in_reply_to = match status.in_reply_to_id {
        Some(id) => match store.status_by_id(id).await? {
            Some(parent) => Some(status_uri(node, &parent).await?),
            None => None,
        },
        None => None,
    };
    Ok(convert::note(
        &node.urls,
        status,
        author,
        &NoteParts {
            mentioned: &mentioned,
            tags: &tags,
            media: &media,
            in_reply_to,
        },
    ))
}

/// The AS2 id of any status we hold.
pub async fn status_uri(node: &Node, status: &StatusRow) -> Result<String, DomainError> {
    if let Some(uri) = &status.uri {
        return Ok(uri.clone());
    }
    let author = node
        .store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    Ok(node.urls.status(&author.username, status.id).to_string())
}

/// Peers that should receive activities about a local status: the author's remote followers
/// (unless direct) and remote accounts mentioned in it.
async fn status_targets(
    node: &Node,
    status: &StatusRow,
    mentioned: &[AccountRow],
) -> Result<Vec<(String, String)>, DomainError> {
    let reach = audience::delivery_targets(status.visibility);
    let mut targets = Vec::new();
    if reach.followers {
        targets.extend(
            node.store
                .remote_follower_inboxes(status.account_id)
                .await?,
        );
    }
    if reach.mentioned {
        targets.extend(
            mentioned
                .iter()
                .filter(|a| !a.is_local())
                .filter_map(inbox_of),
        );
    }
    Ok(targets)
}

/// Deliveries announcing a new local status (Create) or its edit (Update).
pub async fn status_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
    parts: &NoteParts<'_>,
    kind: &str,
) -> Result<Vec<NewDelivery>, DomainError> {
    let targets = status_targets(node, status, parts.mentioned).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let kind = protocol::ActivityKind::parse(kind)
        .ok_or_else(|| DomainError::Internal(format!("{kind} is not an activity type")))?;
    let object = convert::note(&node.urls, status, author, parts);
    let activity =
        convert::note_activity(kind, object, &actor_id(node, author), Some(now_millis()));
    Ok(per_peer(node, targets, &activity.to_json(), author.id))
}

/// Deliveries of a Delete for a local status, to whoever heard of it.
pub async fn delete_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let store = &node.store;
    let mentioned = store
        .accounts_by_ids(
            &store
                .mentions_of(&[status.id])
                .await?
                .into_iter()
                .map(|(_, a)| a)
                .collect::<Vec<_>>(),
        )
        .await?;
    let mut targets = status_targets(node, status, &mentioned).await?;
    let uri = status_uri(node, status).await?;
    let activity = if let Some(target) = status.reblog_of_id {
        // Deleting a reblog is undoing an Announce.
        let original = store.status_by_id(target).await?;
        if let Some(o) = &original {
            if let Some(a) = store.account_by_id(o.account_id).await? {
                targets.extend(inbox_of(&a));
            }
        }
        let announce = json!({"id": format!("{uri}/activity"), "type": "Announce", "actor": actor_id(node, author),
            "object": match &original { Some(o) => json!(status_uri(node, o).await?), None => Value::Null }});
        activities::activity(
            "Undo",
            &activity_id(node, author, "undo"),
            &actor_id(node, author),
            announce,
            &[activities::PUBLIC.to_string()],
            &[],
        )
    } else {
        let tombstone = json!({"id": uri, "type": "Tombstone"});
        activities::activity(
            "Delete",
            &format!("{uri}#delete"),
            &actor_id(node, author),
            tombstone,
            &[activities::PUBLIC.to_string()],
            &[],
        )
    };
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries of an Announce (reblog) by `author` of `original`.
pub async fn announce_deliveries(
    node: &Node,
    reblog: &StatusRow,
    author: &AccountRow,
    original: &StatusRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let mut targets = node.store.remote_follower_inboxes(author.id).await?;
    let original_author = node.store.account_by_id(original.account_id).await?;
    if let Some(a) = &original_author {
        targets.extend(inbox_of(a));
    }
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let object = status_uri(node, original).await?;
    let uri = node.urls.status(&author.username, reblog.id).to_string();
    // Addressed by the reblog's own scope, with the original author as its one mention.
    let original_actor: Vec<String> = original_author.iter().map(|a| actor_id(node, a)).collect();
    let (to, cc) = reblog.visibility.addressing(
        node.urls.followers(&author.username).as_str(),
        &original_actor,
    );
    let mut activity = activities::activity(
        "Announce",
        &format!("{uri}/activity"),
        &actor_id(node, author),
        json!(object),
        &to,
        &cc,
    );
    activity["published"] = json!(crate::convert::rfc3339_millis(reblog.created_at));
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries telling peers with followers of `account` that its profile changed (Update of
/// the actor). `account` is the row as the update will leave it.
pub async fn profile_deliveries(
    node: &Node,
    account: &AccountRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let targets = node.store.remote_follower_inboxes(account.id).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let mut person = crate::convert::activitypub::local_person(account, &node.urls);
    if let Some(o) = person.as_object_mut() {
        o.remove("@context");
    }
    let followers = node.urls.followers(&account.username).to_string();
    let activity = activities::activity(
        "Update",
        &activity_id(node, account, "update"),
        &actor_id(node, account),
        person,
        &[activities::PUBLIC.to_string()],
        &[followers],
    );
    Ok(per_peer(node, targets, &activity, account.id))
}

/// The delivery of a single activity to one remote account's inbox (Follow, Accept, Like,
/// ...), to write with the change it announces; none for a local account.
pub fn deliveries_to(
    node: &Node,
    from: &AccountRow,
    to: &AccountRow,
    activity: &Value,
) -> Vec<NewDelivery> {
    if to.is_local() {
        return vec![];
    }
    per_peer(node, inbox_of(to), activity, from.id)
}

/// Wakes the delivery worker after a change committed with deliveries (`wrote`).
pub fn wake_deliveries(node: &Node, wrote: bool) {
    if wrote {
        node.fed.wake.notify_one();
    }
}

pub fn follow_activity(node: &Node, from: &AccountRow, to: &AccountRow, id: &str) -> Value {
    activities::activity(
        "Follow",
        id,
        &actor_id(node, from),
        json!(actor_id(node, to)),
        &[actor_id(node, to)],
        &[],
    )
}

/// Accept or Reject of a remote follow of a local account.
pub fn answer_follow(
    node: &Node,
    kind: &str,
    local: &AccountRow,
    follower: &AccountRow,
    follow_id: Option<&str>,
) -> Value {
    let follow = json!({
        "id": follow_id,
        "type": "Follow",
        "actor": actor_id(node, follower),
        "object": actor_id(node, local),
    });
    activities::activity(
        kind,
        &activity_id(node, local, &kind.to_lowercase()),
        &actor_id(node, local),
        follow,
        &[actor_id(node, follower)],
        &[],
    )
}

pub fn undo(node: &Node, actor: &AccountRow, object: Value) -> Value {
    activities::activity(
        "Undo",
        &activity_id(node, actor, "undo"),
        &actor_id(node, actor),
        object,
        &[],
        &[],
    )
}

pub async fn like_activity(
    node: &Node,
    from: &AccountRow,
    status: &StatusRow,
) -> Result<Value, DomainError> {
    let uri = status_uri(node, status).await?;
    Ok(activities::activity(
        "Like",
        &format!("{}#likes/{}", actor_id(node, from), status.id),
        &actor_id(node, from),
        json!(uri),
        &[],
        &[],
    ))
}

/// Items of page `page` (from 1) of a local account's followers, following or outbox.
pub async fn collection_page(
    node: &Node,
    account: &AccountRow,
    which: &str,
    page: i64,
    size: i64,
) -> Result<Vec<Value>, DomainError> {
    let offset = (page - 1) * size;
    match which {
        "followers" | "following" => Ok(node
            .store
            .follow_page(account.id, which == "followers", size, offset)
            .await?
            .iter()
            .map(|a| json!(actor_id(node, a)))
            .collect()),
        "outbox" => {
            let mut items = Vec::new();
            let scopes = audience::in_outbox();
            for status in node
                .store
                .outbox_page(account.id, &scopes, size, offset)
                .await?
            {
                let object = note(node, &status, account).await?;
                let create = convert::note_activity(
                    protocol::ActivityKind::Create,
                    object,
                    &actor_id(node, account),
                    None,
                );
                items.push(create.embedded().to_json());
            }
            Ok(items)
        }
        _ => Err(DomainError::NotFound("collection")),
    }
}

// ---------------------------------------------------------------------------------------------
// Inbound

/// Ancestors of a received note fetched at most, so a chain of replies (or a loop of them)
/// cannot make us fetch forever.
pub const MAX_ANCESTORS: u32 = 8;

/// What storing a reply does when its parent cannot be fetched for a reason that may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingParent {
    /// Fail with that error, so the activity is tried again later.
    Retry,
    /// Store the reply without the link to its parent.
    Skip,
}

/// How many more ancestors may be fetched while storing a note, and what a failure does.
#[derive(Debug, Clone, Copy)]
struct Ancestors {
    left: u32,
    missing: MissingParent,
}

impl Ancestors {
    fn parent(self) -> Ancestors {
        Ancestors {
            left: self.left.saturating_sub(1),
            ..self
        }
    }
}

/// What an activity needs for `receive` to act on it, checked before it is accepted: the
/// inbox refuses (422) what fails here instead of queueing it. `actor` is the signer's id.
pub fn check_shape(activity: &Value, actor: &str) -> Result<(), DomainError> {
    let object = activity.get("object").unwrap_or(&Value::Null);
    let needs_object = |what: &str| match id_of(object) {
        Some(_) => Ok(()),
        None => Err(DomainError::Invalid(format!("{what} without object"))),
    };
    match type_of(activity).unwrap_or("") {
        "Follow" | "Like" | "Delete" | "Announce" => {
            needs_object(type_of(activity).unwrap_or_default())
        }
        "Accept" | "Reject" => Ok(()),
        "Undo" => match type_of(object) {
            Some("Follow" | "Like" | "Announce") => Ok(()),
            other => Err(DomainError::Invalid(format!(
                "Undo of unsupported type {other:?}"
            ))),
        },
        "Create" => authored_note(object, actor, "Create").map(|_| ()),
        "Update" => match type_of(object) {
            Some("Note" | "Article" | "Page" | "Question") => {
                authored_note(object, actor, "Update").map(|_| ())
            }
            Some("Person" | "Service" | "Application" | "Group" | "Organization") => {
                if id_of(object) != Some(actor) {
                    return Err(DomainError::Invalid("Update of another actor".into()));
                }
                Ok(())
            }
            other => Err(DomainError::Invalid(format!(
                "Update of unsupported object type {other:?}"
            ))),
        },
        other => Err(DomainError::Invalid(format!(
            "unsupported activity type {other:?}"
        ))),
    }
}

/// The Note of a Create or Update, which must be attributed to the activity's actor.
fn authored_note(object: &Value, actor: &str, kind: &str) -> Result<Note, DomainError> {
    let note =
        activities::parse_note(object).map_err(|e| DomainError::Invalid(format!("{kind}: {e}")))?;
    if note.attributed_to != actor {
        return Err(DomainError::Invalid(format!(
            "{kind} of a note attributed to someone else"
        )));
    }
    Ok(note)
}

/// Handles an activity whose signature has been verified as `actor`'s. Missing parents of a
/// received note, and an announced note, are fetched (up to [`MAX_ANCESTORS`] ancestors);
/// `missing` says what a parent that cannot be fetched yet does.
pub async fn receive(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
    missing: MissingParent,
) -> Result<(), DomainError> {
    let kind = type_of(activity).unwrap_or("");
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    let ancestors = Ancestors {
        left: MAX_ANCESTORS,
        missing,
    };
    match kind {
        "Follow" => receive_follow(node, actor, activity).await,
        "Accept" | "Reject" => receive_answer(node, actor, &object, kind == "Accept").await,
        "Undo" => receive_undo(node, actor, &object).await,
        "Create" => {
            let note = authored_note(&object, &actor_id(node, actor), "Create")?;
            ingest_note(node, actor, note, ancestors).await.map(|_| ())
        }
        "Update" => match type_of(&object) {
            Some("Note" | "Article" | "Page" | "Question") => {
                let note = authored_note(&object, &actor_id(node, actor), "Update")?;
                update_note(node, actor, note, ancestors).await
            }
            Some("Person" | "Service" | "Application" | "Group" | "Organization") => {
                if id_of(&object) != Some(actor_id(node, actor).as_str()) {
                    return Err(DomainError::Invalid("Update of another actor".into()));
                }
                fetch_actor(node, &actor_id(node, actor)).await.map(|_| ())
            }
            other => Err(DomainError::Invalid(format!(
                "Update of unsupported object type {other:?}"
            ))),
        },
        "Delete" => receive_delete(node, actor, &object).await,
        "Like" => receive_like(node, actor, activity).await,
        "Announce" => receive_announce(node, actor, activity, ancestors).await,
        other => Err(DomainError::Invalid(format!(
            "unsupported activity type {other:?}"
        ))),
    }
}

async fn receive_follow(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
) -> Result<(), DomainError> {
    let target_url = activity
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| DomainError::Invalid("Follow without object".into()))?;
    let target = local_account_by_url(node, target_url)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))?;
    let follow_id = id_of(activity);
    // The Accept is written with the follow (or, for a request, when the target approves).
    super::follows::follow_local(node, actor, &target, true, false, follow_id).await?;
    Ok(())
}

/// Accept / Reject of one of our follows. `object` is the Follow or just its id.
async fn receive_answer(
    node: &Node,
    actor: &AccountRow,
    object: &Value,
    accepted: bool,
) -> Result<(), DomainError> {
    let store = &node.store;
    // Find the local follower: from the embedded Follow's actor, or by the Follow id we sent.
    let follower = match object.get("actor").and_then(id_of) {
        Some(url) => local_account_by_url(node, url).await?,
        None => match id_of(object).and_then(|id| id.split_once('#').map(|(a, _)| a.to_string())) {
            Some(actor_url) => local_account_by_url(node, &actor_url).await?,
            None => None,
        },
    };
    let follower = follower.ok_or(DomainError::NotFound("follow"))?;
    let Some((reblogs, notify)) = store.follow_request(follower.id, actor.id).await? else {
        if !accepted {
            // A Reject of an established follow ends it.
            store.delete_follow(follower.id, actor.id, &[]).await?;
            store.remove_from_feed(follower.id, actor.id).await?;
        }
        return Ok(());
    };
    let ap_id = store.follow_ap_id(follower.id, actor.id).await?;
    store
        .delete_follow_request(follower.id, actor.id, &[])
        .await?;
    if accepted {
        store
            .insert_follow(
                follower.id,
                actor.id,
                reblogs,
                notify,
                None,
                ap_id.as_deref(),
                &[],
            )
            .await?;
    }
    Ok(())
}

async fn receive_undo(node: &Node, actor: &AccountRow, object: &Value) -> Result<(), DomainError> {
    let store = &node.store;
    match type_of(object) {
        Some("Follow") => {
            let target = object
                .get("object")
                .and_then(id_of)
                .ok_or_else(|| DomainError::Invalid("Undo Follow without object".into()))?;
            if let Some(local) = local_account_by_url(node, target).await? {
                store.delete_follow(actor.id, local.id, &[]).await?;
            }
            Ok(())
        }
        Some("Like") => {
            let target = object
                .get("object")
                .and_then(id_of)
                .ok_or_else(|| DomainError::Invalid("Undo Like without object".into()))?;
            if let Some(status) = known_status(node, target).await? {
                store.unfavourite(actor.id, status.id, &[]).await?;
            }
            Ok(())
        }
        Some("Announce") => {
            let id = id_of(object)
                .ok_or_else(|| DomainError::Invalid("Undo Announce without id".into()))?;
            if let Some(reblog) = store
                .status_by_uri(id)
                .await?
                .filter(|s| s.account_id == actor.id)
            {
                let audience = super::statuses::audience_of(node, &reblog).await?;
                store.delete_status(reblog.id, None, &[]).await?;
                node.hub.publish(Event::Delete {
                    status_id: reblog.id,
                    audience,
                });
            }
            Ok(())
        }
        other => Err(DomainError::Invalid(format!(
            "Undo of unsupported type {other:?}"
        ))),
    }
}

async fn receive_delete(
    node: &Node,
    actor: &AccountRow,
    object: &Value,
) -> Result<(), DomainError> {
    let id = id_of(object).ok_or_else(|| DomainError::Invalid("Delete without object".into()))?;
    if id == actor_id(node, actor) {
        // The actor itself is gone: keep the row (for history) but suspend it.
        node.store.set_suspended(actor.id, true).await?;
        return Ok(());
    }
    if let Some(status) = node.store.status_by_uri(id).await? {
        if status.account_id != actor.id {
            return Err(DomainError::Invalid(
                "Delete of someone else's status".into(),
            ));
        }
        let audience = super::statuses::audience_of(node, &status).await?;
        node.store.delete_status(status.id, None, &[]).await?;
        node.hub.publish(Event::Delete {
            status_id: status.id,
            audience,
        });
    }
    Ok(())
}

async fn receive_like(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
) -> Result<(), DomainError> {
    let target = activity
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| DomainError::Invalid("Like without object".into()))?;
    let status = known_status(node, target)
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let author = node
        .store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let note = author.is_local().then(|| NewNotification {
        id: crate::ids::next_id(),
        account_id: author.id,
        from_account_id: actor.id,
        kind: "favourite",
        status_id: Some(status.id),
    });
    if node
        .store
        .favourite(actor.id, status.id, note.clone(), &[])
        .await?
    {
        if let Some(n) = note {
            node.hub.publish(Event::Notification {
                account_id: n.account_id,
                notification_id: n.id,
            });
        }
    }
    Ok(())
}

async fn receive_announce(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    let id = id_of(activity)
        .ok_or_else(|| DomainError::Invalid("Announce without id".into()))?
        .to_string();
    // The object is the announced note's id, or (some servers) the note itself.
    let object = activity.get("object").unwrap_or(&Value::Null);
    let target =
        id_of(object).ok_or_else(|| DomainError::Invalid("Announce without object".into()))?;
    let original = match known_status(node, target).await? {
        Some(s) => s,
        None => match embedded_note(node, actor, object) {
            Some(note) => {
                let author = resolve_actor(node, &note.attributed_to).await?;
                ingest_note(node, &author, note, ancestors).await?
            }
            None => fetch_note_in(node, target, ancestors).await?,
        },
    };
    if !audience::may_reblog(original.visibility) {
        return Err(DomainError::Invalid(
            "Announce of a status that cannot be reblogged".into(),
        ));
    }
    let scope = Scope::from_addressing(
        &activities::ids(activity.get("to")),
        &activities::ids(activity.get("cc")),
        actor.followers_url.as_deref(),
        false,
    )
    .map_err(|e| DomainError::Invalid(format!("Announce {id}: {e}")))
    .and_then(|s| {
        audience::reblog_scope(Some(s)).map_err(|e| DomainError::Invalid(e.to_string()))
    })?;
    if node.store.status_by_uri(&id).await?.is_some() {
        return Ok(());
    }
    let author = node
        .store
        .account_by_id(original.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let mut home = node.store.follower_ids_showing_reblogs(actor.id).await?;
    home.sort_unstable();
    let notification = author.is_local().then(|| NewNotification {
        id: crate::ids::next_id(),
        account_id: author.id,
        from_account_id: actor.id,
        kind: "reblog",
        status_id: Some(original.id),
    });
    let status_id = crate::ids::next_id();
    let new = NewStatus {
        row: StatusRow {
            id: status_id,
            account_id: actor.id,
            uri: Some(id),
            url: None,
            text: String::new(),
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: scope,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id: Some(original.id),
            app_name: None,
            app_website: None,
            created_at: now_millis(),
            edited_at: None,
        },
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: notification.iter().cloned().collect(),
        idempotency_key: None,
        deliveries: vec![],
    };
    match node.store.insert_status(&new).await {
        Ok(true) => node.fanout_wake.notify_one(),
        Ok(false) | Err(crate::store::StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    node.hub.publish(Event::Status {
        status_id,
        edited: false,
        // Followers' `user` streams hear of it from the fan-out worker.
        audience: audience::reblog_stream_audience(audience::immediate_home(actor.id, &home)),
    });
    if let Some(n) = notification {
        node.hub.publish(Event::Notification {
            account_id: n.account_id,
            notification_id: n.id,
        });
    }
    Ok(())
}

/// A note embedded in an Announce, when it can be trusted as it is: sent by an actor on the
/// note's own host, and attributed to an actor there. Anything else is fetched from its id.
fn embedded_note(node: &Node, sender: &AccountRow, object: &Value) -> Option<Note> {
    if !object.is_object() {
        return None;
    }
    let note = activities::parse_note(object).ok()?;
    let domain = |url: &str| Url::parse(url).ok().and_then(|u| url_domain(&u));
    let note_domain = domain(&note.id)?;
    let trusted = domain(&actor_id(node, sender)).as_deref() == Some(note_domain.as_str())
        && domain(&note.attributed_to).as_deref() == Some(note_domain.as_str());
    trusted.then_some(note)
}

/// Fetches a remote note we do not hold (a searched-for status) and stores it, without its
/// missing ancestors.
pub async fn fetch_note(node: &Node, url: &str) -> Result<StatusRow, DomainError> {
    let ancestors = Ancestors {
        left: 0,
        missing: MissingParent::Skip,
    };
    fetch_note_in(node, url, ancestors).await
}

/// Fetches a remote note we do not hold (an announced or replied-to status) and stores it,
/// with as many of its missing ancestors as `ancestors` allows.
async fn fetch_note_in(
    node: &Node,
    url: &str,
    ancestors: Ancestors,
) -> Result<StatusRow, DomainError> {
    let (_, domain) = node.fed.net.check(url)?;
    let doc = node.fed.net.get_json(url, &node.fed.node_signer).await?;
    let note = activities::parse_note(&doc)
        .map_err(|e| DomainError::Invalid(format!("note {url}: {e}")))?;
    let note_domain = Url::parse(&note.id).ok().and_then(|u| url_domain(&u));
    if note_domain.as_deref() != Some(domain.as_str()) {
        return Err(DomainError::Invalid(format!(
            "note {} is not on {domain}",
            note.id
        )));
    }
    let author = resolve_actor(node, &note.attributed_to).await?;
    ingest_note(node, &author, note, ancestors).await
}

/// The parent of a note being stored: held already, or fetched (with its own ancestors) while
/// `ancestors` allows. `None` when there is none to link: not fetchable for good (gone,
/// refused by the policy), beyond the depth limit, or failing with `MissingParent::Skip`.
async fn parent_of(
    node: &Node,
    uri: &str,
    ancestors: Ancestors,
) -> Result<Option<StatusRow>, DomainError> {
    if let Some(parent) = known_status(node, uri).await? {
        return Ok(Some(parent));
    }
    if local_status_id(node, uri).is_some() {
        // One of ours that is gone: nothing to fetch.
        return Ok(None);
    }
    if ancestors.left == 0 {
        tracing::debug!(parent = uri, "not fetching a parent beyond the depth limit");
        return Ok(None);
    }
    // Boxed: fetching a parent stores it, which may fetch its parent in turn.
    match Box::pin(fetch_note_in(node, uri, ancestors.parent())).await {
        Ok(parent) => Ok(Some(parent)),
        Err(e @ DomainError::Store(_)) => Err(e),
        Err(e) if e.is_transient() && ancestors.missing == MissingParent::Retry => Err(e),
        Err(e) => {
            tracing::info!(parent = uri, error = %e, "storing a reply without its parent, which cannot be fetched");
            Ok(None)
        }
    }
}

/// Stores a remote note (idempotently) and delivers it into local home feeds and notifications.
/// A missing parent is fetched as `ancestors` allows.
async fn ingest_note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<StatusRow, DomainError> {
    let store = &node.store;
    if let Some(existing) = store.status_by_uri(&note.id).await? {
        return Ok(existing);
    }
    let mut mentioned: Vec<AccountRow> = Vec::new();
    for href in &note.mentions {
        if let Some(a) = known_account(node, href).await? {
            if !mentioned.iter().any(|m| m.id == a.id) {
                mentioned.push(a);
            }
        }
    }
    // A direct note reaches only those addressed; addressed local accounts count as mentioned.
    for addressed in note.to.iter().chain(&note.cc) {
        if let Some(a) = local_account_by_url(node, addressed).await? {
            if !mentioned.iter().any(|m| m.id == a.id) {
                mentioned.push(a);
            }
        }
    }
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.is_local())
        .map(|a| a.id)
        .collect();
    let visibility = Scope::from_addressing(
        &note.to,
        &note.cc,
        author.followers_url.as_deref(),
        !local_mentioned.is_empty(),
    )
    .map_err(|e| DomainError::Invalid(format!("note {}: {e}", note.id)))?;
    let reply_to = match &note.in_reply_to {
        Some(uri) => parent_of(node, uri, ancestors).await?,
        None => None,
    };
    let created_at = note
        .published
        .as_deref()
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(now_millis)
        .min(now_millis());
    let id = crate::ids::next_id();
    let reply_account = reply_to.as_ref().map(|r| r.account_id);
    let home = super::statuses::home_recipients(
        node,
        visibility,
        author.id,
        reply_account,
        &local_mentioned,
    )
    .await?
    .into_iter()
    .filter(|r| *r != author.id)
    .collect::<Vec<_>>();
    let notifications: Vec<NewNotification> = local_mentioned
        .iter()
        .map(|a| NewNotification {
            id: crate::ids::next_id(),
            account_id: *a,
            from_account_id: author.id,
            kind: "mention",
            status_id: Some(id),
        })
        .collect();
    let tags: Vec<(String, String)> = note
        .hashtags
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| (t.to_lowercase(), t.clone()))
        .collect();
    let new = NewStatus {
        row: StatusRow {
            id,
            account_id: author.id,
            uri: Some(note.id.clone()),
            url: note.url.clone(),
            text: String::new(),
            content: sanitize(&note.content),
            spoiler_text: note.summary.clone().unwrap_or_default(),
            sensitive: note.sensitive || note.summary.is_some(),
            visibility,
            language: note.language.clone(),
            in_reply_to_id: reply_to.as_ref().map(|r| r.id),
            in_reply_to_account_id: reply_account,
            reblog_of_id: None,
            app_name: None,
            app_website: None,
            created_at,
            edited_at: None,
        },
        mentions: mentioned.iter().map(|a| a.id).collect(),
        tags: tags.clone(),
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: notifications.clone(),
        idempotency_key: None,
        deliveries: vec![],
    };
    let queued = match store.insert_status(&new).await {
        Ok(queued) => queued,
        Err(crate::store::StoreError::Conflict(_)) => {
            return store
                .status_by_uri(&note.id)
                .await?
                .ok_or(DomainError::NotFound("status"));
        }
        Err(e) => return Err(e.into()),
    };
    for a in &note.attachments {
        store
            .insert_remote_media(
                id,
                author.id,
                &a.url,
                a.media_type.as_deref().unwrap_or("image/jpeg"),
                a.name.as_deref().unwrap_or(""),
            )
            .await?;
    }
    // Woken once the attachments are there, so followers' streams render them.
    if queued {
        node.fanout_wake.notify_one();
    }
    node.hub.publish(Event::Status {
        status_id: id,
        edited: false,
        audience: audience::stream_audience(StatusFacts {
            scope: visibility,
            origin: Origin::Remote,
            author: author.id,
            // Followers' `user` streams hear of it from the fan-out worker.
            home: audience::immediate_home(author.id, &home),
            mentioned: &local_mentioned,
            tags: tags.into_iter().map(|t| t.0).collect(),
            with_media: !note.attachments.is_empty(),
        }),
    });
    for n in notifications {
        node.hub.publish(Event::Notification {
            account_id: n.account_id,
            notification_id: n.id,
        });
    }
    store
        .status_by_id(id)
        .await?
        .ok_or(DomainError::NotFound("status"))
}

async fn update_note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    let store = &node.store;
    let Some(current) = store.status_by_uri(&note.id).await? else {
        ingest_note(node, author, note, ancestors).await?;
        return Ok(());
    };
    if current.account_id != author.id {
        return Err(DomainError::Invalid(
            "Update of someone else's status".into(),
        ));
    }
    let mut row = current.clone();
    row.content = sanitize(&note.content);
    row.spoiler_text = note.summary.clone().unwrap_or_default();
    row.sensitive = note.sensitive || note.summary.is_some();
    row.edited_at = Some(now_millis());
    let media: Vec<i64> = store
        .media_of_statuses(&[current.id])
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    let mut mention_ids = Vec::new();
    for href in &note.mentions {
        if let Some(a) = known_account(node, href).await? {
            mention_ids.push(a.id);
        }
    }
    let new = NewStatus {
        row,
        mentions: mention_ids,
        tags: note
            .hashtags
            .iter()
            .map(|t| (t.to_lowercase(), t.clone()))
            .collect(),
        media_ids: media,
        feed_recipients: vec![],
        notifications: vec![],
        idempotency_key: None,
        deliveries: vec![],
    };
    store
        .edit_status(
            &current,
            &new.media_ids.clone(),
            &new,
            current.edited_at.is_none(),
        )
        .await?;
    let audience = super::statuses::audience_of(node, &current).await?;
    node.hub.publish(Event::Status {
        status_id: current.id,
        edited: true,
        audience,
    });
    Ok(())
}
