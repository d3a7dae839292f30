//! Every change and the deliveries it causes commit in one transaction. With every insert into
//! node A's delivery queue made to fail, each kind of change fails whole (a 5xx, nothing of it
//! kept); once the failure is removed the same call succeeds and node B gets its activity
//! exactly once. And node A killed with SIGKILL in a burst of changes loses none that its
//! client API confirmed.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{create_user, db_execute, db_scalar, eventually, free_port, login, Api, Node, TestDb};
use reqwest::Method;
use serde_json::{json, Value};

struct Site {
    db: TestDb,
    port: u16,
    node: Option<Node>,
}

impl Site {
    fn domain(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    fn node(&self) -> &Node {
        self.node.as_ref().expect("running")
    }
}

fn start(site: &mut Site, allowed: &[String]) {
    let list = format!("[{}]", allowed.join(", "));
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_INBOX_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", list.as_str()),
        // Counted activities only: a finished backfill would send this node's profiles too.
        ("FIKA_FEDERATION_BACKFILL_STATUSES", "0"),
    ];
    site.node = Some(Node::start_on(&site.db, site.port, &env));
}

/// Nodes A and B, started, federating with each other.
fn pair() -> (Site, Site, Vec<String>) {
    let mut sites: Vec<Site> = (0..2)
        .map(|_| Site {
            db: TestDb::new(),
            port: free_port(),
            node: None,
        })
        .collect();
    let domains: Vec<String> = sites.iter().map(Site::domain).collect();
    for s in sites.iter_mut() {
        start(s, &domains);
    }
    let b = sites.pop().unwrap();
    let a = sites.pop().unwrap();
    (a, b, domains)
}

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(site.node(), name, &password, "read write follow").await
}

/// One client API call; `None` if the node did not answer (it was killed).
async fn try_call(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut request = common::client()
        .request(method, api.url(path))
        .bearer_auth(&api.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

async fn call(api: &Api, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    try_call(api, method, path, body)
        .await
        .expect("the node answers")
}

/// Finds a remote account through search with resolve=true, as apps do before following.
async fn resolve(api: &Api, acct: &str) -> String {
    let q = acct.replace('@', "%40").replace(':', "%3A");
    let (code, found) = api
        .get(&format!("/api/v2/search?type=accounts&resolve=true&q={q}"))
        .await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["accounts"][0]["acct"], acct, "{found}");
    found["accounts"][0]["id"].as_str().unwrap().to_string()
}

async fn relationship(api: &Api, id: &str) -> Value {
    let (_, rels) = api
        .get(&format!("/api/v1/accounts/relationships?id[]={id}"))
        .await;
    rels[0].clone()
}

async fn follow_accepted(api: &Api, id: &str) {
    let (code, rel) = call(
        api,
        Method::POST,
        &format!("/api/v1/accounts/{id}/follow"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{rel}");
    eventually("the follow to be accepted", || async {
        (relationship(api, id).await["following"] == true).then_some(())
    })
    .await;
}

async fn count(db: &TestDb, sql: &str, binds: &[&str]) -> i64 {
    db_scalar::<i64>(db, sql, binds).await
}

/// From now on every insert into the node's delivery queue fails, inside whatever
/// transaction makes it. Returns how many log lines mention the failure so far.
async fn break_deliveries(site: &Site) -> usize {
    let db = &site.db;
    if db.url.starts_with("postgres") {
        db_execute(
            db,
            "CREATE OR REPLACE FUNCTION fail_deliveries() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            &[],
        )
        .await;
        db_execute(
            db,
            "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries \
             FOR EACH ROW EXECUTE FUNCTION fail_deliveries()",
            &[],
        )
        .await;
    } else {
        db_execute(
            db,
            "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            &[],
        )
        .await;
    }
    failures_logged(site)
}

async fn mend_deliveries(db: &TestDb) {
    let sql = if db.url.starts_with("postgres") {
        "DROP TRIGGER fail_deliveries ON deliveries"
    } else {
        "DROP TRIGGER fail_deliveries"
    };
    db_execute(db, sql, &[]).await;
}

/// Waits until A has sent all it queued (nothing pending, nothing dead), then returns how
/// many activities B has processed.
async fn quiet(a: &Site, b: &Site) -> i64 {
    eventually("A's delivery queue to drain", || async {
        (count(&a.db, "SELECT COUNT(*) FROM deliveries", &[]).await == 0).then_some(())
    })
    .await;
    count(&b.db, "SELECT COUNT(*) FROM inbox_seen", &[]).await
}

fn failures_logged(a: &Site) -> usize {
    a.node()
        .log()
        .lines()
        .filter(|l| l.contains("injected failure"))
        .count()
}

/// The call failed whole: a 5xx, nothing queued, and A's log says why (more lines about the
/// failure than `logged`, counted when it was installed).
async fn refused(kind: &str, code: u16, body: &Value, a: &Site, logged: usize) {
    assert!(
        (500..600).contains(&code),
        "{kind}: expected a 5xx with deliveries failing, got {code} {body}"
    );
    assert_eq!(
        count(&a.db, "SELECT COUNT(*) FROM deliveries", &[]).await,
        0,
        "{kind}: a delivery was queued"
    );
    // The log line is written as the response goes out; allow it a moment.
    eventually(&format!("{kind}: A's log saying why it failed"), || async {
        (failures_logged(a) > logged).then_some(())
    })
    .await;
}

/// B processed exactly one activity more than `before` once A's queue is empty again.
async fn once(kind: &str, a: &Site, b: &Site, before: i64) {
    let after = quiet(a, b).await;
    // A duplicate would arrive right behind the first; give it the time to.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = after.max(count(&b.db, "SELECT COUNT(*) FROM inbox_seen", &[]).await);
    assert_eq!(
        after - before,
        1,
        "{kind}: B processed {} activities",
        after - before
    );
}

async fn status_on(api: &Api, id: &str) -> Value {
    api.get(&format!("/api/v1/statuses/{id}")).await.1
}

/// A's local id of a status known there by its URI.
async fn local_id(db: &TestDb, uri: &str) -> String {
    db_scalar::<String>(
        db,
        "SELECT CAST(id AS TEXT) FROM statuses WHERE uri = $1",
        &[uri],
    )
    .await
}

/// ada on A followed by bob on B (so each of her changes has a delivery to B), following bob.
struct Setup {
    a: Site,
    b: Site,
    domains: Vec<String>,
    ada: Api,
    bob: Api,
    ada_on_b: String,
}

async fn setup() -> Setup {
    let (a, b, domains) = pair();
    let ada = user(&a, "ada").await;
    let bob = user(&b, "bob").await;
    let ada_on_b = resolve(&bob, &format!("ada@{}", a.domain())).await;
    follow_accepted(&bob, &ada_on_b).await;
    let bob_on_a = resolve(&ada, &format!("bob@{}", b.domain())).await;
    follow_accepted(&ada, &bob_on_a).await;
    Setup {
        a,
        b,
        domains,
        ada,
        bob,
        ada_on_b,
    }
}

/// bob posts on B; returns (his id on B, the id of A's copy).
async fn bob_posts(s: &Setup, text: &str) -> (String, String) {
    let (code, post) = call(
        &s.bob,
        Method::POST,
        "/api/v1/statuses",
        Some(json!({"status": text})),
    )
    .await;
    assert_eq!(code, 200, "{post}");
    let uri = post["uri"].as_str().unwrap().to_string();
    eventually("bob's post on A", || async {
        let n = count(
            &s.a.db,
            "SELECT COUNT(*) FROM statuses WHERE uri = $1",
            &[&uri],
        )
        .await;
        (n == 1).then_some(())
    })
    .await;
    (
        post["id"].as_str().unwrap().to_string(),
        local_id(&s.a.db, &uri).await,
    )
}

#[tokio::test]
async fn status_changes_and_their_deliveries_commit_together() {
    let s = setup().await;
    let (a, b, ada, bob) = (&s.a, &s.b, &s.ada, &s.bob);
    let on_b = |uri: String| async move {
        count(
            &b.db,
            "SELECT COUNT(*) FROM statuses WHERE uri = $1",
            &[&uri],
        )
        .await
    };

    // Post.
    let before = quiet(a, b).await;
    let text = json!({"status": "atomic post"});
    let logged = break_deliveries(a).await;
    let (code, body) = call(ada, Method::POST, "/api/v1/statuses", Some(text.clone())).await;
    refused("post", code, &body, a, logged).await;
    assert_eq!(
        count(
            &a.db,
            "SELECT COUNT(*) FROM statuses WHERE text = 'atomic post'",
            &[]
        )
        .await,
        0,
        "post: the status was kept"
    );
    mend_deliveries(&a.db).await;
    let (code, post) = call(ada, Method::POST, "/api/v1/statuses", Some(text)).await;
    assert_eq!(code, 200, "post: {post}");
    let id = post["id"].as_str().unwrap().to_string();
    let uri = post["uri"].as_str().unwrap().to_string();
    eventually("post: on B", || async {
        (on_b(uri.clone()).await == 1).then_some(())
    })
    .await;
    once("post", a, b, before).await;

    // Edit.
    let before = quiet(a, b).await;
    let path = format!("/api/v1/statuses/{id}");
    let edit = json!({"status": "atomic post, edited"});
    let logged = break_deliveries(a).await;
    let (code, body) = call(ada, Method::PUT, &path, Some(edit.clone())).await;
    refused("edit", code, &body, a, logged).await;
    let st = status_on(ada, &id).await;
    assert!(
        !st["content"].as_str().unwrap().contains("edited"),
        "edit: kept: {st}"
    );
    assert!(st["edited_at"].is_null(), "edit: kept: {st}");
    mend_deliveries(&a.db).await;
    let (code, body) = call(ada, Method::PUT, &path, Some(edit)).await;
    assert_eq!(code, 200, "edit: {body}");
    eventually("edit: on B", || async {
        let content: String = db_scalar(
            &b.db,
            "SELECT content FROM statuses WHERE uri = $1",
            &[&uri],
        )
        .await;
        content.contains("edited").then_some(())
    })
    .await;
    once("edit", a, b, before).await;

    // Delete, with its tombstone.
    let before = quiet(a, b).await;
    let logged = break_deliveries(a).await;
    let (code, body) = call(ada, Method::DELETE, &path, None).await;
    refused("delete", code, &body, a, logged).await;
    let (code, st) = ada.get(&path).await;
    assert_eq!(code, 200, "delete: the status is gone: {st}");
    assert_eq!(
        count(
            &a.db,
            "SELECT COUNT(*) FROM tombstones WHERE uri = $1",
            &[&uri]
        )
        .await,
        0,
        "delete: a tombstone was kept"
    );
    mend_deliveries(&a.db).await;
    let (code, body) = call(ada, Method::DELETE, &path, None).await;
    assert_eq!(code, 200, "delete: {body}");
    assert_eq!(
        count(
            &a.db,
            "SELECT COUNT(*) FROM tombstones WHERE uri = $1",
            &[&uri]
        )
        .await,
        1,
        "delete: no tombstone"
    );
    eventually("delete: gone on B", || async {
        (on_b(uri.clone()).await == 0).then_some(())
    })
    .await;
    once("delete", a, b, before).await;

    // Reblog and unreblog, favourite and its undo, of bob's status.
    let (q_on_b, q) = bob_posts(&s, "bob's numbers").await;
    let counts_on_b = || async {
        let st = status_on(bob, &q_on_b).await;
        (
            st["reblogs_count"].as_i64(),
            st["favourites_count"].as_i64(),
        )
    };
    let steps: [(&str, &str, (i64, i64)); 4] = [
        ("reblog", "reblog", (1, 0)),
        ("unreblog", "unreblog", (0, 0)),
        ("favourite", "favourite", (0, 1)),
        ("unfavourite", "unfavourite", (0, 0)),
    ];
    let mut state = (0i64, 0i64);
    for (kind, action, expected) in steps {
        let before = quiet(a, b).await;
        let action_path = format!("/api/v1/statuses/{q}/{action}");
        let logged = break_deliveries(a).await;
        let (code, body) = call(ada, Method::POST, &action_path, None).await;
        refused(kind, code, &body, a, logged).await;
        let st = status_on(ada, &q).await;
        assert_eq!(
            (
                st["reblogs_count"].as_i64().unwrap(),
                st["favourites_count"].as_i64().unwrap()
            ),
            state,
            "{kind}: changed on A: {st}"
        );
        assert_eq!(st["reblogged"], state.0 == 1, "{kind}: {st}");
        assert_eq!(st["favourited"], state.1 == 1, "{kind}: {st}");
        mend_deliveries(&a.db).await;
        let (code, body) = call(ada, Method::POST, &action_path, None).await;
        assert_eq!(code, 200, "{kind}: {body}");
        eventually(&format!("{kind}: counts on B {expected:?}"), || async {
            (counts_on_b().await == (Some(expected.0), Some(expected.1))).then_some(())
        })
        .await;
        once(kind, a, b, before).await;
        state = expected;
    }
}

#[tokio::test]
async fn follows_and_their_deliveries_commit_together() {
    let s = setup().await;
    let (a, b, ada) = (&s.a, &s.b, &s.ada);
    let cy = user(b, "cy").await;
    let cy_on_a = resolve(ada, &format!("cy@{}", b.domain())).await;
    let followers_of_cy = || async {
        let (_, me) = cy.get("/api/v1/accounts/verify_credentials").await;
        me["followers_count"].as_i64()
    };

    // Follow.
    let before = quiet(a, b).await;
    let path = format!("/api/v1/accounts/{cy_on_a}/follow");
    let logged = break_deliveries(a).await;
    let (code, body) = call(ada, Method::POST, &path, None).await;
    refused("follow", code, &body, a, logged).await;
    let rel = relationship(ada, &cy_on_a).await;
    assert_eq!(
        (&rel["following"], &rel["requested"]),
        (&json!(false), &json!(false)),
        "follow: {rel}"
    );
    mend_deliveries(&a.db).await;
    let (code, body) = call(ada, Method::POST, &path, None).await;
    assert_eq!(code, 200, "follow: {body}");
    eventually("follow: on B", || async {
        (followers_of_cy().await == Some(1)).then_some(())
    })
    .await;
    once("follow", a, b, before).await;
    eventually("follow: accepted on A", || async {
        (relationship(ada, &cy_on_a).await["following"] == true).then_some(())
    })
    .await;

    // Unfollow.
    let before = quiet(a, b).await;
    let path = format!("/api/v1/accounts/{cy_on_a}/unfollow");
    let logged = break_deliveries(a).await;
    let (code, body) = call(ada, Method::POST, &path, None).await;
    refused("unfollow", code, &body, a, logged).await;
    assert_eq!(
        relationship(ada, &cy_on_a).await["following"],
        true,
        "unfollow: ended on A"
    );
    mend_deliveries(&a.db).await;
    let (code, body) = call(ada, Method::POST, &path, None).await;
    assert_eq!(code, 200, "unfollow: {body}");
    eventually("unfollow: on B", || async {
        (followers_of_cy().await == Some(0)).then_some(())
    })
    .await;
    once("unfollow", a, b, before).await;

    // An inbound Follow, auto-accepted: the follow on A and its Accept go together. A's inbox
    // accepts the Follow (202) and queues it; while A cannot queue the Accept, acting on it
    // fails and A's inbox worker tries again later.
    let dee = user(b, "dee").await;
    let ada_for_dee = resolve(&dee, &format!("ada@{}", a.domain())).await;
    let before = quiet(a, b).await;
    let follows_of_dee_on_a = || async {
        count(
            &a.db,
            "SELECT COUNT(*) FROM follows f JOIN accounts x ON x.id = f.account_id \
             WHERE x.username = 'dee' AND x.domain <> ''",
            &[],
        )
        .await
    };
    let logged = break_deliveries(a).await;
    let (code, body) = call(
        &dee,
        Method::POST,
        &format!("/api/v1/accounts/{ada_for_dee}/follow"),
        None,
    )
    .await;
    assert_eq!(code, 200, "inbound follow: {body}");
    eventually("inbound follow: failed on A at least once", || async {
        let retried = count(
            &a.db,
            "SELECT COUNT(*) FROM inbox_jobs WHERE attempts > 0 AND last_error IS NOT NULL",
            &[],
        )
        .await;
        (retried > 0).then_some(())
    })
    .await;
    eventually("inbound follow: A's log saying why it failed", || async {
        (failures_logged(a) > logged).then_some(())
    })
    .await;
    assert_eq!(
        follows_of_dee_on_a().await,
        0,
        "inbound follow: kept on A without its Accept"
    );
    assert_eq!(relationship(&dee, &ada_for_dee).await["following"], false);
    mend_deliveries(&a.db).await;
    eventually("inbound follow: accepted on B", || async {
        (relationship(&dee, &ada_for_dee).await["following"] == true).then_some(())
    })
    .await;
    assert_eq!(follows_of_dee_on_a().await, 1);
    once("inbound follow (Accept)", a, b, before).await;

    // Follow requests to a locked account on A: authorize (Accept) and reject (Reject).
    let lou = user(a, "lou").await;
    let (code, body) = call(
        &lou,
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(json!({"locked": true})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let mut requesters = Vec::new();
    for who in [&cy, &dee] {
        let lou_on_b = resolve(who, &format!("lou@{}", a.domain())).await;
        let (code, rel) = call(
            who,
            Method::POST,
            &format!("/api/v1/accounts/{lou_on_b}/follow"),
            None,
        )
        .await;
        assert_eq!((code, &rel["requested"]), (200, &json!(true)), "{rel}");
        requesters.push(lou_on_b);
    }
    let pending = || async {
        let (_, list) = lou.get("/api/v1/follow_requests").await;
        list.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| {
                (
                    a["username"].as_str().unwrap().to_string(),
                    a["id"].as_str().unwrap().to_string(),
                )
            })
            .collect::<HashMap<String, String>>()
    };
    eventually("both requests reach A", || async {
        (pending().await.len() == 2).then_some(())
    })
    .await;
    let ids = pending().await;
    for (kind, action, who, lou_on_b) in [
        ("authorize", "authorize", &cy, &requesters[0]),
        ("reject", "reject", &dee, &requesters[1]),
    ] {
        let name = if kind == "authorize" { "cy" } else { "dee" };
        let path = format!("/api/v1/follow_requests/{}/{action}", ids[name]);
        let before = quiet(a, b).await;
        let logged = break_deliveries(a).await;
        let (code, body) = call(&lou, Method::POST, &path, None).await;
        refused(kind, code, &body, a, logged).await;
        assert!(
            pending().await.contains_key(name),
            "{kind}: the request is gone on A"
        );
        let (_, me) = lou.get("/api/v1/accounts/verify_credentials").await;
        let approved = if kind == "authorize" { 0 } else { 1 };
        assert_eq!(
            me["followers_count"], approved,
            "{kind}: a follow was kept: {me}"
        );
        mend_deliveries(&a.db).await;
        let (code, body) = call(&lou, Method::POST, &path, None).await;
        assert_eq!(code, 200, "{kind}: {body}");
        eventually(&format!("{kind}: on B"), || async {
            let rel = relationship(who, lou_on_b).await;
            let done = if kind == "authorize" {
                rel["following"] == true
            } else {
                rel["requested"] == false && rel["following"] == false
            };
            done.then_some(())
        })
        .await;
        once(kind, a, b, before).await;
    }
}

#[tokio::test]
async fn a_profile_update_and_its_delivery_commit_together() {
    let s = setup().await;
    let (a, b, ada, bob) = (&s.a, &s.b, &s.ada, &s.bob);
    let before = quiet(a, b).await;
    let change = json!({"display_name": "Ada of Audit"});
    let logged = break_deliveries(a).await;
    let (code, body) = call(
        ada,
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(change.clone()),
    )
    .await;
    refused("profile update", code, &body, a, logged).await;
    let (_, me) = ada.get("/api/v1/accounts/verify_credentials").await;
    assert_ne!(
        me["display_name"], "Ada of Audit",
        "profile update: kept on A"
    );
    mend_deliveries(&a.db).await;
    let (code, body) = call(
        ada,
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(change),
    )
    .await;
    assert_eq!(code, 200, "profile update: {body}");
    eventually("profile update: on B", || async {
        let (_, acct) = bob.get(&format!("/api/v1/accounts/{}", s.ada_on_b)).await;
        (acct["display_name"] == "Ada of Audit").then_some(())
    })
    .await;
    once("profile update", a, b, before).await;
}

/// A change the burst made and the API confirmed (or that was in flight at the kill).
#[derive(Debug, Clone)]
enum Op {
    Post(String),
    Edit(String),
    Delete(String),
    Favourite(String),
    Reblog(String),
    Unreblog(String),
    Follow(String),
    Unfollow(String),
    Rename(String),
}

#[derive(Default)]
struct Record {
    confirmed: Vec<Op>,
    /// The call each task had sent when the node died: it may or may not have been kept.
    in_flight: Vec<Op>,
}

/// Runs `ops` in order until the node stops answering, recording what it confirmed.
async fn burst(
    api: Api,
    ops: Vec<(Op, Method, String, Option<Value>)>,
    record: Arc<Mutex<Record>>,
) {
    for (op, method, path, body) in ops {
        let op = match (&op, try_call(&api, method, &path, body).await) {
            (Op::Post(_), Some((200, post))) => {
                Op::Post(post["uri"].as_str().unwrap_or_default().to_string())
            }
            (_, Some((200, _))) => op,
            (_, Some((code, body))) => panic!("{op:?} refused with {code}: {body}"),
            (_, None) => {
                record.lock().unwrap().in_flight.push(op);
                return;
            }
        };
        record.lock().unwrap().confirmed.push(op);
    }
}

/// Node A is killed with SIGKILL in the middle of a burst of mixed changes from four clients,
/// while B is down so that none of it has been sent yet; restarted on the same database, A gets
/// every change its API confirmed to B, once.
#[tokio::test]
async fn a_crash_in_a_burst_loses_no_confirmed_change() {
    let mut s = setup().await;
    let (a, b) = (&s.a, &s.b);
    let ada_acct_domain = a.domain();

    // Before the burst: ada's statuses to edit or delete (on B already), bob's statuses to
    // favourite, reblog or unreblog (on A already, some reblogged), B users to follow or
    // unfollow (some followed).
    let mut edit_ids = Vec::new();
    let mut delete_ids = Vec::new();
    let mut uris: HashMap<String, String> = HashMap::new();
    for i in 0..8 {
        let (code, post) = call(
            &s.ada,
            Method::POST,
            "/api/v1/statuses",
            Some(json!({"status": format!("before the burst {i}")})),
        )
        .await;
        assert_eq!(code, 200, "{post}");
        let id = post["id"].as_str().unwrap().to_string();
        uris.insert(id.clone(), post["uri"].as_str().unwrap().to_string());
        if i % 2 == 0 {
            edit_ids.push(id);
        } else {
            delete_ids.push(id);
        }
    }
    let mut bob_statuses: HashMap<String, String> = HashMap::new(); // A id -> B id
    let mut fav_ids = Vec::new();
    let mut reblog_ids = Vec::new();
    let mut unreblog_ids = Vec::new();
    for i in 0..9 {
        let (on_b, on_a) = bob_posts(&s, &format!("bob's {i}")).await;
        bob_statuses.insert(on_a.clone(), on_b);
        match i % 3 {
            0 => fav_ids.push(on_a),
            1 => reblog_ids.push(on_a),
            _ => unreblog_ids.push(on_a),
        }
    }
    for id in &unreblog_ids {
        let (code, body) = call(
            &s.ada,
            Method::POST,
            &format!("/api/v1/statuses/{id}/reblog"),
            None,
        )
        .await;
        assert_eq!(code, 200, "{body}");
    }
    let mut follow_ids = Vec::new();
    let mut unfollow_ids = Vec::new();
    let mut usernames: HashMap<String, String> = HashMap::new(); // A id -> username on B
    for i in 0..4 {
        let name = format!("peer{i}");
        user(b, &name).await;
        let id = resolve(&s.ada, &format!("{name}@{}", b.domain())).await;
        usernames.insert(id.clone(), name);
        if i % 2 == 0 {
            follow_ids.push(id);
        } else {
            follow_accepted(&s.ada, &id).await;
            unfollow_ids.push(id);
        }
    }
    quiet(a, b).await;
    // B is down for the burst, so what A confirms is still queued when it dies.
    assert!(s.b.node.take().unwrap().stop().success());

    let record: Arc<Mutex<Record>> = Default::default();
    let with = |op: Op, method: Method, path: String, body: Option<Value>| (op, method, path, body);
    let posts: Vec<_> = (0..40)
        .map(|i| {
            with(
                Op::Post(String::new()),
                Method::POST,
                "/api/v1/statuses".into(),
                Some(json!({"status": format!("in the burst {i}")})),
            )
        })
        .collect();
    let mut edits_and_deletes = Vec::new();
    for (e, d) in edit_ids.iter().zip(&delete_ids) {
        edits_and_deletes.push(with(
            Op::Edit(e.clone()),
            Method::PUT,
            format!("/api/v1/statuses/{e}"),
            Some(json!({"status": format!("edited in the burst {e}")})),
        ));
        edits_and_deletes.push(with(
            Op::Delete(d.clone()),
            Method::DELETE,
            format!("/api/v1/statuses/{d}"),
            None,
        ));
    }
    let mut marks = Vec::new();
    for ((f, r), u) in fav_ids.iter().zip(&reblog_ids).zip(&unreblog_ids) {
        for (op, id, action) in [
            (Op::Favourite(f.clone()), f, "favourite"),
            (Op::Reblog(r.clone()), r, "reblog"),
            (Op::Unreblog(u.clone()), u, "unreblog"),
        ] {
            marks.push(with(
                op,
                Method::POST,
                format!("/api/v1/statuses/{id}/{action}"),
                None,
            ));
        }
    }
    let mut social = Vec::new();
    for i in 0..2 {
        for (op, id, action) in [
            (Op::Follow(follow_ids[i].clone()), &follow_ids[i], "follow"),
            (
                Op::Unfollow(unfollow_ids[i].clone()),
                &unfollow_ids[i],
                "unfollow",
            ),
        ] {
            social.push(with(
                op,
                Method::POST,
                format!("/api/v1/accounts/{id}/{action}"),
                None,
            ));
        }
        for k in 0..2 {
            let name = format!("Ada {i}.{k}");
            social.push(with(
                Op::Rename(name.clone()),
                Method::PATCH,
                "/api/v1/accounts/update_credentials".into(),
                Some(json!({"display_name": name})),
            ));
        }
    }
    let mut tasks = Vec::new();
    for ops in [posts, edits_and_deletes, marks, social] {
        let api = Api {
            base: s.ada.base.clone(),
            token: s.ada.token.clone(),
        };
        tasks.push(tokio::spawn(burst(api, ops, record.clone())));
    }
    // Kill A once a good part of the burst is confirmed, with more of it on the way.
    let deadline = Instant::now() + Duration::from_secs(20);
    while record.lock().unwrap().confirmed.len() < 16 {
        assert!(Instant::now() < deadline, "the burst is too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    s.a.node.take().unwrap().kill();
    for t in tasks {
        t.await.expect("burst task");
    }
    let (confirmed, in_flight) = {
        let r = record.lock().unwrap();
        (r.confirmed.clone(), r.in_flight.clone())
    };
    assert!(
        in_flight.len() >= 2,
        "the kill came after the burst: {in_flight:?}"
    );

    // Each confirmed change has its delivery to B queued (one each: B is one peer).
    let queued = count(
        &s.a.db,
        "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
        &[],
    )
    .await;
    assert!(
        queued >= confirmed.len() as i64,
        "{queued} deliveries queued for {} confirmed changes",
        confirmed.len()
    );
    // Sends cut off by the kill stay leased for minutes, and the retries of the failed ones
    // are spread out; the restarted node would take them up in time. Make them due now.
    db_execute(
        &s.a.db,
        "UPDATE deliveries SET next_attempt_at = 0 WHERE state = 'pending'",
        &[],
    )
    .await;
    start(&mut s.b, &s.domains);
    start(&mut s.a, &s.domains);
    let (a, b) = (&s.a, &s.b);

    let bob_view = |id: String| {
        let bob = &s.bob;
        async move { status_on(bob, &id).await }
    };
    let ada_follows_on_b = |name: String| {
        let domain = ada_acct_domain.clone();
        async move {
            count(
                &b.db,
                "SELECT COUNT(*) FROM follows f JOIN accounts x ON x.id = f.account_id \
                 JOIN accounts t ON t.id = f.target_account_id \
                 WHERE x.username = 'ada' AND x.domain = $1 AND t.username = $2 AND t.domain = ''",
                &[&domain, &name],
            )
            .await
        }
    };
    let last_name = confirmed.iter().rev().find_map(|op| match op {
        Op::Rename(n) => Some(n.clone()),
        _ => None,
    });
    let mut names: HashSet<Option<String>> = HashSet::new();
    names.insert(last_name.clone());
    for op in &in_flight {
        if let Op::Rename(n) = op {
            names.insert(Some(n.clone()));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut missing = Vec::new();
        for op in &confirmed {
            let ok = match op {
                Op::Post(uri) => {
                    let copies = count(
                        &b.db,
                        "SELECT COUNT(*) FROM statuses WHERE uri = $1",
                        &[uri],
                    )
                    .await;
                    let creates = count(
                        &b.db,
                        "SELECT COUNT(*) FROM inbox_seen WHERE activity_id LIKE $1",
                        &[&format!("{uri}#create/%")],
                    )
                    .await;
                    copies == 1 && creates == 1
                }
                Op::Edit(id) => {
                    let content: Option<String> = db_scalar(
                        &b.db,
                        "SELECT MAX(content) FROM statuses WHERE uri = $1",
                        &[&uris[id]],
                    )
                    .await;
                    content.is_some_and(|c| c.contains("edited in the burst"))
                }
                Op::Delete(id) => {
                    count(
                        &b.db,
                        "SELECT COUNT(*) FROM statuses WHERE uri = $1",
                        &[&uris[id]],
                    )
                    .await
                        == 0
                }
                Op::Favourite(id) => {
                    bob_view(bob_statuses[id].clone()).await["favourites_count"] == 1
                }
                Op::Reblog(id) => bob_view(bob_statuses[id].clone()).await["reblogs_count"] == 1,
                Op::Unreblog(id) => bob_view(bob_statuses[id].clone()).await["reblogs_count"] == 0,
                Op::Follow(id) => ada_follows_on_b(usernames[id].clone()).await == 1,
                Op::Unfollow(id) => ada_follows_on_b(usernames[id].clone()).await == 0,
                Op::Rename(_) => true,
            };
            if !ok {
                missing.push(op.clone());
            }
        }
        if last_name.is_some() {
            let (_, acct) = s.bob.get(&format!("/api/v1/accounts/{}", s.ada_on_b)).await;
            let shown = acct["display_name"].as_str().map(String::from);
            if !names.contains(&shown) {
                missing.push(Op::Rename(format!("{shown:?}, expected one of {names:?}")));
            }
        }
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "confirmed before the kill but not on B: {missing:?}\nconfirmed: {confirmed:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Nothing is left over or given up on A.
    quiet(a, b).await;
}
