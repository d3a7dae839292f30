//! Backfill: when a peer becomes an `org` peer, its recent public statuses are read from its
//! node-level collection of them (the node actor's outbox, signed GET) and stored here, so a
//! new department's node does not start with an empty federated timeline. Page by page, with
//! the progress saved after each page (a stop resumes there), and idempotent (a status held
//! already is not stored twice). When done, this node's discoverable profiles go to the peer
//! (Update of each actor), so each side's directory knows the other's people. `jobs::backfill`
//! drives it.

use fika_federation::activities::{self, is_public};
use fika_federation::policy::url_domain;
use serde_json::Value;
use url::Url;

use super::resolve::resolve_actor;
use crate::domain::inbox::create::ingest_backfilled;
use crate::domain::{DomainError, Node};
use crate::store::backfill::BackfillRow;

/// Pages read at most in one backfill, whatever the peer's collection says.
const MAX_PAGES: usize = 50;

/// The pending backfills due now, after bringing the rows in line with the `org` peers in
/// force (the node's own domain is no peer).
pub async fn due(node: &Node) -> Result<Vec<BackfillRow>, DomainError> {
    let peers = super::outbound::org_peers(node);
    node.store.sync_backfills(&peers).await?;
    Ok(node.store.due_backfills(crate::store::now_millis()).await?)
}

/// Runs one backfill to its end (`limit` statuses, or the end of the peer's collection),
/// saving the progress after every page. An error leaves the progress made so far.
pub async fn run(
    node: &Node,
    mut row: BackfillRow,
    limit: i64,
) -> Result<BackfillRow, DomainError> {
    let peer = row.domain.clone();
    let mut page_url = match row.next_page.clone() {
        Some(url) => Some(url),
        None => first_page(node, &peer).await?,
    };
    let mut pages = 0;
    while let Some(url) = page_url.take() {
        if row.fetched >= limit || pages >= MAX_PAGES {
            break;
        }
        pages += 1;
        let page = fetch_from(node, &peer, &url).await?;
        for item in items(&page) {
            if row.fetched >= limit {
                break;
            }
            let Some(note) = public_note_of(&peer, item) else {
                continue;
            };
            row.fetched += 1;
            let author = resolve_actor(node, &note.attributed_to).await?;
            if ingest_backfilled(node, &author, note).await? {
                row.stored += 1;
            }
        }
        page_url = page
            .get("next")
            .and_then(activities::id_of)
            .map(String::from);
        row.next_page = page_url.clone();
        node.store.save_backfill(&row).await?;
        tracing::info!(peer = %peer, fetched = row.fetched, stored = row.stored, "backfill page taken in");
    }
    row.state = "done".into();
    row.next_page = None;
    row.last_error = None;
    // The other half of the exchange: this node's discoverable people, to the peer's directory.
    let profiles = super::outbound::directory_deliveries(node, &peer).await?;
    node.store.finish_backfill(&row, &profiles).await?;
    super::outbound::wake_deliveries(node, !profiles.is_empty());
    tracing::info!(peer = %peer, fetched = row.fetched, stored = row.stored, profiles = profiles.len(), "backfill done");
    Ok(row)
}

/// The first page of the peer's collection of public statuses, found through its node actor.
async fn first_page(node: &Node, peer: &str) -> Result<Option<String>, DomainError> {
    let actor_url = format!("{}://{peer}/actor", node.fed.net.scheme_for(peer));
    let actor = fetch_from(node, peer, &actor_url).await?;
    let outbox = actor
        .get("outbox")
        .and_then(activities::id_of)
        .ok_or_else(|| DomainError::Invalid(format!("{actor_url} names no outbox")))?
        .to_string();
    let collection = fetch_from(node, peer, &outbox).await?;
    Ok(match collection.get("first") {
        // An embedded first page is read again from its id, like every other page.
        Some(first) => activities::id_of(first).map(String::from),
        None => None,
    })
}

/// A signed GET of a document on `peer` itself: a page naming another host is refused.
async fn fetch_from(node: &Node, peer: &str, url: &str) -> Result<Value, DomainError> {
    if domain_of(url).as_deref() != Some(peer) {
        return Err(DomainError::Invalid(format!("{url} is not on {peer}")));
    }
    Ok(node.fed.net.get_json(url, &node.fed.node_signer).await?)
}

fn domain_of(url: &str) -> Option<String> {
    Url::parse(url).ok().and_then(|u| url_domain(&u))
}

fn items(page: &Value) -> impl Iterator<Item = &Value> {
    page.get("orderedItems")
        .or_else(|| page.get("items"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The note of an item (a Create with the note embedded, or the note itself) when it is public
/// and both it and its author are on `peer`: a node vouches only for its own statuses.
fn public_note_of(peer: &str, item: &Value) -> Option<activities::Note> {
    let object = match activities::type_of(item) {
        Some("Create") => item.get("object")?,
        _ => item,
    };
    let note = activities::parse_note(object).ok()?;
    let own = |url: &str| domain_of(url).as_deref() == Some(peer);
    (own(&note.id) && own(&note.attributed_to) && note.to.iter().any(|t| is_public(t)))
        .then_some(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn note(id: &str, author: &str, to: &str) -> Value {
        json!({
            "type": "Create",
            "object": {
                "id": id, "type": "Note", "attributedTo": author, "content": "<p>hi</p>",
                "to": [to], "cc": [],
            },
        })
    }

    #[test]
    fn only_a_peers_own_public_notes_are_taken() {
        let public = "https://www.w3.org/ns/activitystreams#Public";
        let peer = "b.example:8443";
        let ok = note(
            "https://b.example:8443/users/bo/statuses/1",
            "https://b.example:8443/users/bo",
            public,
        );
        assert!(public_note_of(peer, &ok).is_some());
        assert!(public_note_of(peer, &ok["object"]).is_some(), "a bare note");
        let followers = note(
            "https://b.example:8443/users/bo/statuses/2",
            "https://b.example:8443/users/bo",
            "https://b.example:8443/users/bo/followers",
        );
        assert!(public_note_of(peer, &followers).is_none());
        let foreign = note(
            "https://c.example/users/cy/statuses/3",
            "https://c.example/users/cy",
            public,
        );
        assert!(public_note_of(peer, &foreign).is_none());
        let borrowed = note(
            "https://b.example:8443/users/bo/statuses/4",
            "https://c.example/users/cy",
            public,
        );
        assert!(public_note_of(peer, &borrowed).is_none());
    }
}
