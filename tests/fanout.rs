//! Home-feed fan-out: posting writes one queue row whatever the number of followers; the
//! fan-out worker writes followers' home feeds, tells their `user` streams only then, and picks
//! up what was queued before a stop.

mod common;

use common::{create_user, db_execute, db_scalar, eventually, login, Api, Node, Stream, TestDb};
use serde_json::{json, Value};

use fika::store::fanout::ROWS_PER_TRANSACTION;
use fika::store::statuses::{NewStatus, StatusRow};

fn start(db: &TestDb) -> Node {
    Node::start_on(
        db,
        common::free_port(),
        &[("FIKA_OAUTH_PASSWORD_GRANT", "true")],
    )
}

async fn user(node: &Node, db: &TestDb, name: &str) -> (Api, String) {
    let password = create_user(db, name);
    let api = login(node, name, &password, "read write follow").await;
    let (_, me) = api.get("/api/v1/accounts/verify_credentials").await;
    let id = me["id"].as_str().unwrap().to_string();
    (api, id)
}

async fn follow(api: &Api, id: &str) {
    let (code, rel) = api
        .post(&format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    assert_eq!(rel["following"], true, "{rel}");
}

async fn post(api: &Api, text: &str) -> String {
    let (code, status) = api.post("/api/v1/statuses", json!({"status": text})).await;
    assert_eq!(code, 200, "{status}");
    status["id"].as_str().unwrap().to_string()
}

async fn home_ids(api: &Api) -> Vec<String> {
    let (_, home) = api.get("/api/v1/timelines/home").await;
    home.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// (a) Followers get the post in their home timelines; their `user` streams hear of it only
/// once it is there, and exactly once; the author sees it at once.
#[tokio::test]
async fn followers_home_feeds_and_user_streams() {
    let db = TestDb::new();
    let node = start(&db);
    let (ada, ada_id) = user(&node, &db, "ada").await;
    let (bob, _) = user(&node, &db, "bob").await;
    let (cy, _) = user(&node, &db, "cy").await;
    let (dee, dee_id) = user(&node, &db, "dee").await;
    for who in [&bob, &cy] {
        follow(who, &ada_id).await;
    }
    // dee's posts are the end marker on every stream below: they reach everyone's home
    // through the queue, which is applied in order.
    for who in [&ada, &bob, &cy] {
        follow(who, &dee_id).await;
    }
    let mut bob_stream = Stream::open(&bob, "/api/v1/streaming/user").await;
    let mut ada_stream = Stream::open(&ada, "/api/v1/streaming/user").await;

    let first = post(&ada, "fan-out one").await;
    // The author's own home has it when the POST returns.
    assert!(home_ids(&ada).await.contains(&first));

    // When bob's stream says `update`, his home timeline already has the status.
    let (event, data) = bob_stream.next().await;
    assert_eq!(event, "update");
    let streamed: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(streamed["id"], first.as_str());
    assert!(
        home_ids(&bob).await.contains(&first),
        "streamed before it was in the home feed"
    );
    common::home_once_it_has(&cy, &[&first]).await;

    let second = post(&ada, "fan-out two").await;
    let marker = post(&dee, "end marker").await;
    let bob_saw = bob_stream.updates_until(&marker).await;
    assert_eq!(
        bob_saw,
        vec![second.clone(), marker.clone()],
        "bob's stream"
    );
    let ada_saw = ada_stream.updates_until(&marker).await;
    assert_eq!(
        ada_saw,
        vec![first.clone(), second.clone(), marker.clone()],
        "the author's stream has each of her posts once, at once"
    );
    for who in [&bob, &cy] {
        let home = home_ids(who).await;
        assert_eq!(home, vec![marker.clone(), second.clone(), first.clone()]);
    }

    // Everything was applied: the queue is empty, each follower has one row per status.
    eventually("the fan-out queue to drain", || async {
        (db_scalar::<i64>(&db, "SELECT COUNT(*) FROM feed_fanout", &[]).await == 0).then_some(())
    })
    .await;
    let rows = db_scalar::<i64>(
        &db,
        &format!("SELECT COUNT(*) FROM home_feed WHERE status_id = {first}"),
        &[],
    )
    .await;
    assert_eq!(rows, 3, "ada, bob and cy");
}

/// (b) A fan-out queued when the node stops is applied after the next start.
#[tokio::test]
async fn queued_fanouts_survive_a_restart() {
    let db = TestDb::new();
    let node = start(&db);
    let (ada, ada_id) = user(&node, &db, "ada").await;
    let (bob, bob_id) = user(&node, &db, "bob").await;
    let (cy, _) = user(&node, &db, "cy").await;
    follow(&cy, &ada_id).await;
    // bob does not follow ada: his feed gets this one only from the queue row written below,
    // while the node is down.
    let queued = post(&ada, "queued while stopped").await;
    // cy's fan-out may or may not be applied before the stop; either way it lands.
    let last = post(&ada, "posted just before the stop").await;
    let port = node.port;
    assert!(node.stop().success());
    db_execute(
        &db,
        &format!(
            "INSERT INTO feed_fanout (status_id, author_id, recipients, created_at) \
             VALUES ({queued}, {ada_id}, '[{bob_id}]', 0)"
        ),
        &[],
    )
    .await;
    let rows = db_scalar::<i64>(
        &db,
        &format!("SELECT COUNT(*) FROM home_feed WHERE account_id = {bob_id}"),
        &[],
    )
    .await;
    assert_eq!(rows, 0);

    let node = Node::start_on(&db, port, &[("FIKA_OAUTH_PASSWORD_GRANT", "true")]);
    let bob = Api {
        base: node.base.clone(),
        token: bob.token,
    };
    let cy = Api {
        base: node.base.clone(),
        token: cy.token,
    };
    common::home_once_it_has(&bob, &[&queued]).await;
    common::home_once_it_has(&cy, &[&last]).await;
    assert_eq!(home_ids(&bob).await, vec![queued]);
    assert_eq!(
        db_scalar::<i64>(&db, "SELECT COUNT(*) FROM feed_fanout", &[]).await,
        0,
        "applied rows leave the queue"
    );
}

/// (c) Posting writes the status, the author's own home row and ONE queue row, however many
/// followers there are; the worker's step then writes every follower's row, and applying the
/// same fan-out again changes nothing.
#[tokio::test]
async fn posting_writes_one_queue_row_whatever_the_follower_count() {
    let db = TestDb::new();
    let config = fika::config::Config {
        data_dir: db.data_dir().to_path_buf(),
        database: fika::config::DatabaseConfig {
            url: db.url.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let store = fika::server::open_store(&config).await.unwrap();
    const FOLLOWERS: i64 = 1_200;
    let author = 1_000_000;
    let followers: Vec<i64> = (1..=FOLLOWERS).map(|i| author + i).collect();
    for id in std::iter::once(author).chain(followers.iter().copied()) {
        store
            .insert_local_account(&fika::store::accounts::NewLocalAccount {
                id,
                username: format!("u{id}"),
                email: None,
                display_name: String::new(),
                password_hash: "x".into(),
                private_key_pem: "x".into(),
                public_key_pem: "x".into(),
                role: "user".into(),
                discoverable: true,
                created_at: 0,
            })
            .await
            .unwrap();
    }
    let status_id = 42;
    let mut recipients = followers.clone();
    recipients.push(author);
    let new = NewStatus {
        poll: None,
        conversation: None,
        row: StatusRow {
            id: status_id,
            account_id: author,
            uri: None,
            url: None,
            text: "hello".into(),
            content: "<p>hello</p>".into(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: fika::domain::audience::Scope::Public,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id: None,
            app_name: None,
            app_website: None,
            created_at: 0,
            edited_at: None,
            locality: fika::domain::audience::Locality::Federated,
            group_id: None,
        },
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        feed_recipients: recipients,
        notifications: vec![],
        idempotency_key: None,
        deliveries: vec![],
    };
    assert!(store.insert_status(&new).await.unwrap(), "a fan-out queued");
    let feed_rows = "SELECT COUNT(*) FROM home_feed WHERE status_id = 42";
    assert_eq!(
        db_scalar::<i64>(&db, feed_rows, &[]).await,
        1,
        "only the author's row"
    );
    assert_eq!(store.pending_fanouts().await.unwrap(), 1, "one queue row");

    let applied = store.apply_fanouts(ROWS_PER_TRANSACTION).await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].status_id, status_id);
    assert_eq!(applied[0].recipients, followers);
    assert_eq!(db_scalar::<i64>(&db, feed_rows, &[]).await, FOLLOWERS + 1);
    assert_eq!(store.pending_fanouts().await.unwrap(), 0);
    assert!(store
        .apply_fanouts(ROWS_PER_TRANSACTION)
        .await
        .unwrap()
        .is_empty());

    // A fan-out applied twice (say, queued again after a crash) is harmless.
    let list = serde_json::to_string(&followers).unwrap();
    db_execute(
        &db,
        &format!(
            "INSERT INTO feed_fanout (status_id, author_id, recipients, created_at) \
             VALUES (42, {author}, '{list}', 0)"
        ),
        &[],
    )
    .await;
    assert_eq!(store.apply_fanouts(10).await.unwrap().len(), 1);
    assert_eq!(db_scalar::<i64>(&db, feed_rows, &[]).await, FOLLOWERS + 1);
    assert_eq!(store.pending_fanouts().await.unwrap(), 0);

    // Deleting a status takes its pending fan-out with it.
    let mut other = new.clone();
    other.row.id = 43;
    assert!(store.insert_status(&other).await.unwrap());
    assert!(store.delete_status(43, None, &[]).await.unwrap());
    assert_eq!(store.pending_fanouts().await.unwrap(), 0);
    store.close().await;
}
