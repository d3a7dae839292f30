//! The inbox answers once an activity is verified and queued; what acting on it needs (fetching
//! a parent over the network) happens afterwards, in the inbox worker, with retries.
//!
//! Each test runs node A (the receiver, with ada following bob) and node B (bob's and carol's
//! node). Activities are POSTed to A signed with bob's own key, as B would send them, so a test
//! can choose what they reference: a parent on B, or one on a peer that never answers.

mod common;

use std::time::{Duration, Instant};

use common::{
    create_user, db_scalar, eventually, free_port, local_private_key, login, signed_post, Api,
    Node, TestDb,
};
use serde_json::{json, Value};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A loopback peer that accepts connections and never answers: every fetch from it times out.
fn black_hole() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    format!("127.0.0.1:{port}")
}

/// A loopback peer that answers every request with `content_type` and `body` (where `HOST`
/// becomes its own address): a peer serving what it should not.
fn scripted_peer(content_type: &'static str, body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let answer = body.replace("HOST", &host);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    host
}

struct Net {
    a_db: TestDb,
    a_port: u16,
    a_env: Vec<(String, String)>,
    a: Option<Node>,
    b_db: TestDb,
    b: Node,
    ada: Api,
    /// bob's actor URL on B.
    bob: String,
    bob_key: String,
}

impl Net {
    fn a(&self) -> &Node {
        self.a.as_ref().expect("A is running")
    }

    fn start_a(&mut self) {
        let env: Vec<(&str, &str)> = self
            .a_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.a = Some(Node::start_on(&self.a_db, self.a_port, &env));
    }

    /// POSTs `activity` to A's shared inbox signed by bob; the status and the time it took.
    async fn post_as_bob(&self, activity: &Value) -> (u16, Duration) {
        self.post_as(&self.bob, &self.bob_key, activity).await
    }

    /// POSTs `activity` to A's shared inbox signed with `actor`'s key.
    async fn post_as(&self, actor: &str, key: &str, activity: &Value) -> (u16, Duration) {
        let started = Instant::now();
        let r = signed_post(
            &self.a().url("/inbox"),
            activity,
            key,
            &format!("{actor}#main-key"),
        )
        .await;
        (r.status().as_u16(), started.elapsed())
    }

    /// A Create of a public note by bob, with id `.../statuses/{n}`.
    fn create(&self, n: u64, text: &str, in_reply_to: Option<&str>) -> Value {
        let note = self.note(n, text, in_reply_to);
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activity", note["id"].as_str().unwrap()),
            "type": "Create",
            "actor": self.bob,
            "to": [PUBLIC],
            "cc": [format!("{}/followers", self.bob)],
            "object": note,
        })
    }

    fn note(&self, n: u64, text: &str, in_reply_to: Option<&str>) -> Value {
        json!({
            "id": format!("{}/statuses/{n}", self.bob),
            "type": "Note",
            "attributedTo": self.bob,
            "content": format!("<p>{text}</p>"),
            "inReplyTo": in_reply_to,
            "to": [PUBLIC],
            "cc": [format!("{}/followers", self.bob)],
        })
    }

    async fn statuses_with_uri(&self, uri: &str) -> i64 {
        db_scalar(
            &self.a_db,
            "SELECT COUNT(*) FROM statuses WHERE uri = $1",
            &[uri],
        )
        .await
    }

    async fn queued(&self) -> i64 {
        db_scalar(&self.a_db, "SELECT COUNT(*) FROM inbox_jobs", &[]).await
    }
}

/// A and B allowing each other as partners (A also allows `extra_peers`), so that only follows
/// bring statuses across; ada on A following bob on B.
/// A's fetches time out after `timeout` seconds; its inbox retries after 1 s, twice at most.
async fn setup(extra_peers: &[String], timeout: &str) -> Net {
    let (a_port, b_port) = (free_port(), free_port());
    let (a_domain, b_domain) = (format!("127.0.0.1:{a_port}"), format!("127.0.0.1:{b_port}"));
    let mut a_allowed = vec![b_domain.clone()];
    a_allowed.extend_from_slice(extra_peers);
    let env = |allowed: &[String]| -> Vec<(String, String)> {
        [
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
            ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
            ("FIKA_FEDERATION_TIMEOUT_SECONDS", timeout),
            ("FIKA_FEDERATION_INBOX_RETRY_BASE_SECONDS", "1"),
            ("FIKA_FEDERATION_INBOX_MAX_ATTEMPTS", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([(
            "FIKA_FEDERATION_PARTNER_DOMAINS".to_string(),
            format!("[{}]", allowed.join(", ")),
        )])
        .collect()
    };
    let b_db = TestDb::new();
    let b_env = env(&[a_domain]);
    let b_env: Vec<(&str, &str)> = b_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let b = Node::start_on(&b_db, b_port, &b_env);
    create_user(&b_db, "bob");
    let mut net = Net {
        a_db: TestDb::new(),
        a_port,
        a_env: env(&a_allowed),
        a: None,
        bob_key: local_private_key(&b_db, "bob").await,
        b_db,
        b,
        ada: Api {
            base: String::new(),
            token: String::new(),
        },
        bob: format!("http://{b_domain}/users/bob"),
    };
    net.start_a();
    let password = create_user(&net.a_db, "ada");
    net.ada = login(net.a(), "ada", &password, "read write follow").await;
    // ada follows bob: A then knows bob and his key, so the timed POSTs fetch nothing first.
    let (code, found) = net
        .ada
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q=bob%40{}",
            b_domain.replace(':', "%3A")
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    let bob_id = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (code, rel) = net
        .ada
        .post(&format!("/api/v1/accounts/{bob_id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    let ada = &net.ada;
    eventually("ada's follow of bob to be accepted", || async {
        let (_, rels) = ada
            .get(&format!("/api/v1/accounts/relationships?id[]={bob_id}"))
            .await;
        (rels[0]["following"] == true).then_some(())
    })
    .await;
    net
}

async fn home_has(api: &Api, text: &str) -> Option<Value> {
    let (_, home) = api.get("/api/v1/timelines/home").await;
    home.as_array()?
        .iter()
        .find(|s| s["content"].as_str().unwrap_or("").contains(text))
        .cloned()
}

/// Polls for up to 30 s (a job that gives up waits out its fetches' timeouts first).
async fn within_30s<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A reply to a post on a peer that never answers is accepted at once, and stored without its
/// parent once the worker has given up fetching it.
#[tokio::test]
async fn a_reply_to_an_unreachable_parent_is_accepted_at_once_and_kept_without_it() {
    let hole = black_hole();
    let net = setup(std::slice::from_ref(&hole), "1").await;
    let parent = format!("http://{hole}/notes/1");
    let create = net.create(1, "reply into the void", Some(&parent));
    let (code, took) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    assert!(
        took < Duration::from_secs(1),
        "the inbox answered after {took:?}"
    );
    let uri = create["object"]["id"].as_str().unwrap();
    assert_eq!(net.statuses_with_uri(uri).await, 0, "not stored yet");

    let shown = within_30s("the reply on ada's home timeline", || {
        home_has(&net.ada, "reply into the void")
    })
    .await;
    assert!(shown["in_reply_to_id"].is_null(), "{shown}");
    let unlinked: i64 = db_scalar(
        &net.a_db,
        "SELECT COUNT(*) FROM statuses WHERE uri = $1 AND in_reply_to_id IS NULL",
        &[uri],
    )
    .await;
    assert_eq!(unlinked, 1);
    eventually("the job to leave the queue", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    let log = net.a().log();
    assert!(log.contains("will retry"), "the first attempt is retried");
    assert!(
        log.contains("without its parent"),
        "A logs why the link is missing"
    );
    // The queue depth is in the metrics.
    let metrics = common::client()
        .get(net.a().url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("fika_inbox_queue 0"), "{metrics}");
}

/// A reply to a post A does not hold is linked to it: the worker fetches the parent from its
/// node first. Ancestors are fetched up to a depth limit.
#[tokio::test]
async fn a_reply_is_linked_to_a_parent_fetched_from_its_node() {
    let net = setup(&[], "5").await;
    // carol, whom nobody on A follows, starts a thread on B: A has none of it.
    let password = create_user(&net.b_db, "carol");
    let carol = login(&net.b, "carol", &password, "read write").await;
    let mut thread: Vec<Value> = Vec::new();
    for i in 0..10 {
        let mut body = json!({"status": format!("thread post {i}")});
        if let Some(last) = thread.last() {
            body["in_reply_to_id"] = last["id"].clone();
        }
        let (code, posted) = carol.post("/api/v1/statuses", body).await;
        assert_eq!(code, 200, "{posted}");
        thread.push(posted);
    }
    let uri = |s: &Value| s["uri"].as_str().unwrap().to_string();

    // bob replies to the first post.
    let create = net.create(2, "a reply with context", Some(&uri(&thread[0])));
    let (code, took) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    let reply_uri = create["object"]["id"].as_str().unwrap();
    let linked = |child: String, parent: String| {
        let db = &net.a_db;
        async move {
            let n: i64 = db_scalar(
                db,
                "SELECT COUNT(*) FROM statuses r JOIN statuses p ON p.id = r.in_reply_to_id \
                 WHERE r.uri = $1 AND p.uri = $2",
                &[&child, &parent],
            )
            .await;
            n == 1
        }
    };
    within_30s("the reply, linked to its parent", || async {
        linked(reply_uri.to_string(), uri(&thread[0]))
            .await
            .then_some(())
    })
    .await;
    // The client API shows the ancestor in the reply's context.
    let (_, found) = net
        .ada
        .get(&format!(
            "/api/v2/search?type=statuses&q={}",
            reply_uri.replace(':', "%3A").replace('/', "%2F")
        ))
        .await;
    let local_id = found["statuses"][0]["id"]
        .as_str()
        .expect("found")
        .to_string();
    let (_, context) = net
        .ada
        .get(&format!("/api/v1/statuses/{local_id}/context"))
        .await;
    let ancestors = context["ancestors"].as_array().unwrap();
    assert_eq!(ancestors.len(), 1, "{context}");
    assert!(ancestors[0]["content"]
        .as_str()
        .unwrap()
        .contains("thread post 0"));

    // A reply to the last post of the thread: its 8 nearest ancestors are fetched and linked,
    // the rest are not.
    let create = net.create(3, "a reply deep in a thread", Some(&uri(&thread[9])));
    let (code, _) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    let reply_uri = create["object"]["id"].as_str().unwrap();
    within_30s("the deep reply, linked", || async {
        linked(reply_uri.to_string(), uri(&thread[9]))
            .await
            .then_some(())
    })
    .await;
    for i in 3..10 {
        assert!(
            linked(uri(&thread[i]), uri(&thread[i - 1])).await,
            "thread post {i} is linked to its parent"
        );
    }
    // Post 2 is the 8th ancestor: stored, but its parent (post 1) is beyond the limit.
    assert_eq!(net.statuses_with_uri(&uri(&thread[2])).await, 1);
    assert!(!linked(uri(&thread[2]), uri(&thread[1])).await);
}

/// What the inbox accepted is processed after a restart, even if the node stopped before the
/// job could finish.
#[tokio::test]
async fn an_accepted_activity_survives_a_restart() {
    let hole = black_hole();
    let mut net = setup(std::slice::from_ref(&hole), "2").await;
    let parent = format!("http://{hole}/notes/2");
    let create = net.create(4, "said just before a restart", Some(&parent));
    let (code, took) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    // Stopped while the first attempt waits for the parent.
    let status = net.a.take().unwrap().stop();
    assert!(status.success(), "A stopped cleanly: {status:?}");
    let uri = create["object"]["id"].as_str().unwrap().to_string();
    assert_eq!(net.statuses_with_uri(&uri).await, 0);
    assert_eq!(net.queued().await, 1, "the activity is still queued");

    net.start_a();
    within_30s("the status after the restart", || async {
        (net.statuses_with_uri(&uri).await == 1).then_some(())
    })
    .await;
    eventually("the job to leave the queue", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    assert!(home_has(&net.ada, "said just before a restart")
        .await
        .is_some());
}

/// The same activity delivered twice is accepted twice and acted on once; shape errors are
/// still refused synchronously.
#[tokio::test]
async fn work_of_a_killed_node_is_taken_up_after_restart() {
    let hole = black_hole();
    let mut net = setup(std::slice::from_ref(&hole), "2").await;
    let parent = format!("http://{hole}/notes/3");
    let create = net.create(5, "said just before a crash", Some(&parent));
    let (code, _) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    // Killed while the first attempt waits for the parent: the job stays leased.
    let _ = net.a.take().unwrap().kill();
    let uri = create["object"]["id"].as_str().unwrap().to_string();
    assert_eq!(net.statuses_with_uri(&uri).await, 0);
    assert_eq!(net.queued().await, 1, "the activity is still queued");

    net.start_a();
    if common::backend_is_postgres() {
        // Another process may share the database: the lease is kept until it ends.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(net.statuses_with_uri(&uri).await, 0);
        assert_eq!(net.queued().await, 1, "still queued, leased");
        return;
    }
    // On SQLite the node is the database's only process: its leases are released at start.
    within_30s("the status after the restart", || async {
        (net.statuses_with_uri(&uri).await == 1).then_some(())
    })
    .await;
    assert!(net.a().log().contains("is due again"), "A logs the release");
}

#[tokio::test]
async fn a_duplicate_is_accepted_and_stored_once_and_bad_shapes_are_refused() {
    let net = setup(&[], "5").await;
    let create = net.create(5, "said twice", None);
    for _ in 0..2 {
        let (code, _) = net.post_as_bob(&create).await;
        assert_eq!(code, 202);
    }
    let uri = create["object"]["id"].as_str().unwrap();
    eventually("the status on A", || async {
        (net.statuses_with_uri(uri).await == 1).then_some(())
    })
    .await;
    eventually("the queue to empty", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    // A third copy after it was processed queues nothing either.
    let (code, _) = net.post_as_bob(&create).await;
    assert_eq!(code, 202);
    assert_eq!(net.queued().await, 0);
    assert_eq!(net.statuses_with_uri(uri).await, 1);
    let home = home_has(&net.ada, "said twice").await;
    assert!(home.is_some());
    let (_, timeline) = net.ada.get("/api/v1/timelines/home").await;
    let copies = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["content"].as_str().unwrap_or("").contains("said twice"))
        .count();
    assert_eq!(copies, 1);

    // A note attributed to someone else, and an unsupported type: 422, nothing queued.
    let mut foreign = net.create(6, "not bob's", None);
    foreign["object"]["attributedTo"] = json!("http://127.0.0.1:1/users/mallory");
    assert_eq!(net.post_as_bob(&foreign).await.0, 422);
    let odd = json!({"id": format!("{}#odd/1", net.bob), "type": "Dance", "actor": net.bob});
    assert_eq!(net.post_as_bob(&odd).await.0, 422);
    // No id: 400.
    let mut no_id = net.create(7, "no id", None);
    no_id.as_object_mut().unwrap().remove("id");
    assert_eq!(net.post_as_bob(&no_id).await.0, 400);
    assert_eq!(net.queued().await, 0);
    let refused: i64 = db_scalar(
        &net.a_db,
        "SELECT COUNT(*) FROM inbox_seen WHERE activity_id LIKE '%/statuses/6/%' OR activity_id LIKE '%#odd/1'",
        &[],
    )
    .await;
    assert_eq!(refused, 0, "refused activities are not marked seen");
}

/// An Announce carrying the note itself: trusted when it comes from the note's own node,
/// fetched from the note's id otherwise.
#[tokio::test]
async fn an_announce_with_an_embedded_note_is_stored_or_fetched() {
    let hole = black_hole();
    let net = setup(std::slice::from_ref(&hole), "1").await;
    // bob's own note (B would answer 404 for it: only the embedded copy exists).
    let note = net.note(8, "boosted with its content", None);
    let announce = json!({
        "id": format!("{}/statuses/8/announce", net.bob), "type": "Announce",
        "actor": net.bob, "to": [PUBLIC], "object": note,
    });
    assert_eq!(net.post_as_bob(&announce).await.0, 202);
    let boosted = within_30s("the boost on ada's home timeline", || async {
        let (_, home) = net.ada.get("/api/v1/timelines/home").await;
        home.as_array()?
            .iter()
            .find(|s| {
                s["reblog"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .contains("boosted with its content")
            })
            .cloned()
    })
    .await;
    assert_eq!(boosted["reblog"]["uri"], note["id"]);

    // A note claimed to be on another node is not taken from bob: A fetches it there, which
    // fails, and stores nothing.
    let forged_id = format!("http://{hole}/notes/3");
    let mut forged = net.note(9, "content bob made up", None);
    forged["id"] = json!(forged_id);
    forged["attributedTo"] = json!(format!("http://{hole}/users/someone"));
    let announce = json!({
        "id": format!("{}/statuses/9/announce", net.bob), "type": "Announce",
        "actor": net.bob, "to": [PUBLIC], "object": forged,
    });
    assert_eq!(net.post_as_bob(&announce).await.0, 202);
    within_30s("the forged boost to be given up", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    assert_eq!(net.statuses_with_uri(&forged_id).await, 0);
    let announce_uri = announce["id"].as_str().unwrap();
    assert_eq!(net.statuses_with_uri(announce_uri).await, 0);
    assert!(net
        .a()
        .log()
        .contains("incoming activity given up after its last attempt"));
}

/// A relay (as a group does, FEP-1b12) wraps a member's Create in its Announce. The boosted
/// status is the inner note, fetched from its own node: the embedded copy's content is not
/// trusted, so a relay cannot put words in someone else's mouth.
#[tokio::test]
async fn an_announce_of_a_create_boosts_the_note_fetched_from_its_node() {
    let net = setup(&[], "5").await;
    let password = create_user(&net.b_db, "carol");
    let carol = login(&net.b, "carol", &password, "read write").await;
    let (code, posted) = carol
        .post(
            "/api/v1/statuses",
            json!({"status": "what carol really wrote"}),
        )
        .await;
    assert_eq!(code, 200, "{posted}");
    let note_uri = posted["uri"].as_str().unwrap().to_string();
    let carol_actor = note_uri.split("/statuses/").next().unwrap().to_string();
    let relayed = json!({
        "id": format!("{}/relayed/1", net.bob), "type": "Announce", "actor": net.bob,
        "to": [PUBLIC], "cc": [format!("{}/followers", net.bob)],
        "object": {
            "id": format!("{note_uri}/activity"), "type": "Create", "actor": carol_actor,
            "object": {"id": note_uri, "type": "Note", "attributedTo": carol_actor,
                       "content": "words the relay made up", "to": [PUBLIC]},
        },
    });
    let (code, took) = net.post_as_bob(&relayed).await;
    assert_eq!(code, 202);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    let boosted = within_30s("the relayed boost on ada's home timeline", || async {
        let (_, home) = net.ada.get("/api/v1/timelines/home").await;
        home.as_array()?
            .iter()
            .find(|s| s["reblog"]["uri"] == json!(note_uri))
            .cloned()
    })
    .await;
    let content = boosted["reblog"]["content"].as_str().unwrap_or("");
    assert!(content.contains("what carol really wrote"), "{content}");
    assert!(!content.contains("made up"));
    assert_eq!(
        boosted["account"]["acct"]
            .as_str()
            .unwrap_or("")
            .split('@')
            .next(),
        Some("bob")
    );

    // An Announce of an activity that names no object is accepted, then dropped with a reason.
    let empty = json!({
        "id": format!("{}/relayed/2", net.bob), "type": "Announce", "actor": net.bob,
        "to": [PUBLIC], "object": {"id": format!("{note_uri}/x"), "type": "Create", "actor": carol_actor},
    });
    assert_eq!(net.post_as_bob(&empty).await.0, 202);
    within_30s("the empty relay to be dropped", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    assert!(net
        .a()
        .log()
        .contains("Announce of an activity without object"));
}

/// A Delete acted on at once while its Create still waits in the queue (for a parent that
/// cannot be fetched) keeps the status from appearing when the job gives up.
#[tokio::test]
async fn a_delete_overtaking_its_queued_create_wins() {
    let hole = black_hole();
    let net = setup(std::slice::from_ref(&hole), "1").await;
    let parent = format!("http://{hole}/notes/9");
    let create = net.create(9, "said and taken back", Some(&parent));
    assert_eq!(net.post_as_bob(&create).await.0, 202);
    let uri = create["object"]["id"].as_str().unwrap().to_string();
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{uri}#delete"),
        "type": "Delete",
        "actor": net.bob,
        "to": [PUBLIC],
        "object": {"id": uri, "type": "Tombstone"},
    });
    assert_eq!(net.post_as_bob(&delete).await.0, 202);
    eventually("the queued Create to be given up", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    assert_eq!(
        net.statuses_with_uri(&uri).await,
        0,
        "the deleted status came back"
    );
    assert!(home_has(&net.ada, "said and taken back").await.is_none());
}

/// Some servers undo a Like, an Announce or a Follow by naming only its id. Each is found among
/// what that actor did, and only there: naming another actor's Like undoes nothing.
#[tokio::test]
async fn an_undo_naming_only_the_activity_id_undoes_that_actors_activity() {
    let net = setup(&[], "5").await;
    create_user(&net.b_db, "carol");
    let carol = net.bob.replace("/users/bob", "/users/carol");
    let carol_key = local_private_key(&net.b_db, "carol").await;
    let (code, status) = net
        .ada
        .post("/api/v1/statuses", json!({"status": "undo me later"}))
        .await;
    assert_eq!(code, 200, "{status}");
    let status_id = status["id"].as_str().unwrap().to_string();
    let uri = status["uri"].as_str().unwrap().to_string();
    let ada_url = format!("http://127.0.0.1:{}/users/ada", net.a_port);
    let ada_id = status["account"]["id"].as_str().unwrap().to_string();

    let bob_like = format!("{}/likes/1", net.bob);
    let bob_announce = format!("{}/announces/1", net.bob);
    let bob_follow = format!("{}/follows/1", net.bob);
    let carol_like = format!("{carol}/likes/1");
    for activity in [
        json!({"id": bob_like, "type": "Like", "actor": net.bob, "object": uri}),
        json!({"id": bob_announce, "type": "Announce", "actor": net.bob, "object": uri,
               "to": [PUBLIC]}),
        json!({"id": bob_follow, "type": "Follow", "actor": net.bob, "object": ada_url}),
    ] {
        assert_eq!(net.post_as_bob(&activity).await.0, 202, "{activity}");
    }
    let like = json!({"id": carol_like, "type": "Like", "actor": carol, "object": uri});
    assert_eq!(net.post_as(&carol, &carol_key, &like).await.0, 202);
    let counts = || async {
        let (_, s) = net.ada.get(&format!("/api/v1/statuses/{status_id}")).await;
        let (_, a) = net.ada.get(&format!("/api/v1/accounts/{ada_id}")).await;
        (
            s["favourites_count"].as_i64().unwrap(),
            s["reblogs_count"].as_i64().unwrap(),
            a["followers_count"].as_i64().unwrap(),
        )
    };
    within_30s("two favourites, a boost and a follower", || async {
        (counts().await == (2, 1, 1)).then_some(())
    })
    .await;

    // bob names carol's Like, and an id nothing has: accepted, nothing changes.
    for (n, object) in [&carol_like, &format!("{}/likes/404", net.bob)]
        .into_iter()
        .enumerate()
    {
        let undo = json!({"id": format!("{}/undos/x{n}", net.bob), "type": "Undo",
                          "actor": net.bob, "object": object});
        assert_eq!(net.post_as_bob(&undo).await.0, 202);
    }
    // Each Undo by reference removes what bob did, one at a time.
    let steps = [
        (&bob_like, (1, 1, 1)),
        (&bob_announce, (1, 0, 1)),
        (&bob_follow, (1, 0, 0)),
    ];
    for (n, (object, expected)) in steps.into_iter().enumerate() {
        let undo = json!({"id": format!("{}/undos/{n}", net.bob), "type": "Undo",
                          "actor": net.bob, "object": object});
        assert_eq!(net.post_as_bob(&undo).await.0, 202, "{undo}");
        within_30s(&format!("the Undo of {object}"), || async {
            (counts().await == expected).then_some(())
        })
        .await;
    }
    let (_, by) = net
        .ada
        .get(&format!("/api/v1/statuses/{status_id}/favourited_by"))
        .await;
    let by: Vec<&str> = by
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["carol"], "carol's favourite stays");
    assert!(net.a().log().find("Undo of unsupported type").is_none());
}

/// An edit is dated by the note's `updated`, and an older Update arriving after a newer one
/// (or the same one again) changes nothing.
#[tokio::test]
async fn an_edit_keeps_its_own_time_and_an_older_update_does_not_overwrite_a_newer() {
    let net = setup(&[], "5").await;
    let create = net.create(20, "first version", None);
    assert_eq!(net.post_as_bob(&create).await.0, 202);
    let shown = within_30s("bob's note on ada's home", || async {
        home_has(&net.ada, "first version").await
    })
    .await;
    let id = shown["id"].as_str().unwrap().to_string();
    let update = |n: u64, text: &str, updated: &str| {
        let mut note = net.note(20, text, None);
        note["updated"] = json!(updated);
        json!({"id": format!("{}/statuses/20/update/{n}", net.bob), "type": "Update",
               "actor": net.bob, "to": [PUBLIC], "object": note})
    };
    let newer = "2026-06-01T10:00:02Z";
    for activity in [
        update(2, "third version", newer),
        update(1, "second version", "2026-06-01T10:00:01Z"),
        update(3, "third version again", newer),
    ] {
        assert_eq!(net.post_as_bob(&activity).await.0, 202);
    }
    within_30s("the inbox queue to drain", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    let (_, status) = net.ada.get(&format!("/api/v1/statuses/{id}")).await;
    assert!(
        status["content"]
            .as_str()
            .unwrap()
            .contains("third version<"),
        "{status}"
    );
    assert_eq!(status["edited_at"], "2026-06-01T10:00:02.000Z");
    let (_, history) = net.ada.get(&format!("/api/v1/statuses/{id}/history")).await;
    let texts: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].contains("first version") && texts[1].contains("third version<"));
}

/// A fetched object must be an ActivityStreams document and name the host it came from: a
/// peer serving a page, or a copy of another node's note, has nothing stored.
#[tokio::test]
async fn a_fetched_object_served_as_a_page_or_naming_another_host_is_refused() {
    let html = scripted_peer("text/html", "<html><body>not a note</body></html>");
    let copier = scripted_peer(
        "application/activity+json",
        r#"{"id": "http://127.0.0.1:9/notes/1", "type": "Note", "attributedTo": "http://HOST/users/x", "content": "copied", "to": ["https://www.w3.org/ns/activitystreams#Public"]}"#,
    );
    let net = setup(&[html.clone(), copier.clone()], "5").await;
    for (n, host) in [&html, &copier].into_iter().enumerate() {
        let announce = json!({
            "id": format!("{}/announces/fetch-{n}", net.bob), "type": "Announce",
            "actor": net.bob, "to": [PUBLIC], "object": format!("http://{host}/notes/1"),
        });
        assert_eq!(net.post_as_bob(&announce).await.0, 202);
    }
    within_30s("both announces to be given up", || async {
        (net.queued().await == 0).then_some(())
    })
    .await;
    for host in [&html, &copier] {
        assert_eq!(
            net.statuses_with_uri(&format!("http://{host}/notes/1"))
                .await,
            0
        );
    }
    assert_eq!(net.statuses_with_uri("http://127.0.0.1:9/notes/1").await, 0);
    let log = net.a().log();
    assert!(log.contains("not as an ActivityStreams document"), "{log}");
    assert!(
        log.contains("is not on the host it was fetched from"),
        "{log}"
    );
}
