//! The delivery queue under a bad peer: a peer that accepts connections and never answers must
//! not hold up deliveries to the healthy ones.

mod common;

use std::time::{Duration, Instant};

use common::{create_user, free_port, login, Api, Node, TestDb};
use serde_json::json;

async fn resolve_and_follow(api: &Api, acct: &str) {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            acct.replace('@', "%40").replace(':', "%3A")
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    let id = found["accounts"][0]["id"]
        .as_str()
        .expect("found")
        .to_string();
    let (code, rel) = api
        .post(&format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
}

#[tokio::test]
async fn a_black_holed_peer_does_not_hold_up_the_others() {
    let (db_a, db_b, db_e) = (TestDb::new(), TestDb::new(), TestDb::new());
    let (pa, pb, pe) = (free_port(), free_port(), free_port());
    let list = format!("[127.0.0.1:{pa}, 127.0.0.1:{pb}, 127.0.0.1:{pe}]");
    let common_env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", list.as_str()),
    ];
    // Few slots overall, two per peer, and a long timeout: without a per-peer limit the dead
    // peer's deliveries would take every slot for the whole timeout.
    let mut env_a = common_env.to_vec();
    env_a.extend([
        ("FIKA_FEDERATION_CONCURRENCY", "4"),
        ("FIKA_FEDERATION_PER_PEER_CONCURRENCY", "2"),
        ("FIKA_FEDERATION_TIMEOUT_SECONDS", "30"),
    ]);
    let a = Node::start_on(&db_a, pa, &env_a);
    let b = Node::start_on(&db_b, pb, &common_env);
    let e = Node::start_on(&db_e, pe, &common_env);
    let ada = login(&a, "ada", &create_user(&db_a, "ada"), "read write follow").await;
    let bob = login(&b, "bob", &create_user(&db_b, "bob"), "read write follow").await;
    let eve = login(&e, "eve", &create_user(&db_e, "eve"), "read write follow").await;
    let ada_acct = format!("ada@127.0.0.1:{pa}");
    resolve_and_follow(&bob, &ada_acct).await;
    resolve_and_follow(&eve, &ada_acct).await;
    common::eventually("both follows to reach A", || async {
        let (_, me) = ada.get("/api/v1/accounts/verify_credentials").await;
        (me["followers_count"] == 2).then_some(())
    })
    .await;

    // E goes away and something takes its port that accepts connections and never answers.
    e.stop();
    let hole = std::net::TcpListener::bind(("127.0.0.1", pe)).expect("take E's port");
    let _held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in hole.incoming() {
            open.push(s);
        }
    });

    let started = Instant::now();
    for i in 0..6 {
        let (code, _) = ada
            .post(
                "/api/v1/statuses",
                json!({"status": format!("update {i} for everyone")}),
            )
            .await;
        assert_eq!(code, 200);
    }
    // All six reach B long before the dead peer's first timeout (30 s) frees any slot.
    let deadline = started + Duration::from_secs(15);
    loop {
        let (_, home) = bob.get("/api/v1/timelines/home?limit=40").await;
        let seen = home
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| s["content"].as_str().unwrap_or("").contains("for everyone"))
                    .count()
            })
            .unwrap_or(0);
        if seen == 6 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {seen} of 6 posts reached the healthy peer while another peer hung"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(b);
    drop(a);
}
