//! Several real nodes on loopback, each with its own database, keys and domain, federating over
//! signed HTTP as staff use them through the client API.

mod common;

use std::time::Duration;

use common::{create_user, eventually, free_port, login, Api, Node, TestDb};
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

/// Nodes that allow each other (and, in `extra_allowed`, whoever else a test names).
fn sites(n: usize) -> Vec<Site> {
    (0..n)
        .map(|_| Site {
            db: TestDb::new(),
            port: free_port(),
            node: None,
        })
        .collect()
}

fn start(site: &mut Site, allowed: &[String], extra: &[(&str, &str)]) {
    let list = format!("[{}]", allowed.join(", "));
    let mut env = vec![
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", list.as_str()),
    ];
    env.extend_from_slice(extra);
    site.node = Some(Node::start_on(&site.db, site.port, &env));
}

fn start_all(sites: &mut [Site]) {
    let domains: Vec<String> = sites.iter().map(Site::domain).collect();
    for s in sites.iter_mut() {
        start(s, &domains, &[]);
    }
}

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(site.node(), name, &password, "read write follow").await
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Finds a remote account through search with resolve=true, as apps do before following.
async fn resolve(api: &Api, acct: &str) -> String {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            urlencode(acct)
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    let accounts = found["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{acct} not found: {found}");
    assert_eq!(accounts[0]["acct"], acct);
    accounts[0]["id"].as_str().unwrap().to_string()
}

fn urlencode(s: &str) -> String {
    s.replace('@', "%40").replace(':', "%3A")
}

async fn follow(api: &Api, account_id: &str) {
    let (code, rel) = api
        .post(&format!("/api/v1/accounts/{account_id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    eventually("the follow to be accepted", || async {
        let (_, rels) = api
            .get(&format!("/api/v1/accounts/relationships?id[]={account_id}"))
            .await;
        (rels[0]["following"] == true).then_some(())
    })
    .await;
}

async fn home_contains(api: &Api, needle: &str) -> Option<Value> {
    let (_, home) = api.get("/api/v1/timelines/home").await;
    home.as_array()?
        .iter()
        .find(|s| {
            s["content"].as_str().unwrap_or("").contains(needle)
                || s["reblog"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .contains(needle)
        })
        .cloned()
}

async fn notification(api: &Api, kind: &str, from: &str) -> Option<Value> {
    let (_, list) = api
        .get(&format!("/api/v1/notifications?types[]={kind}"))
        .await;
    list.as_array()?
        .iter()
        .find(|n| n["account"]["acct"] == from)
        .cloned()
}

#[tokio::test]
async fn staff_on_two_nodes_follow_post_reply_boost_favourite_edit_delete_unfollow() {
    let mut s = sites(2);
    start_all(&mut s);
    let (a, b) = (&s[0], &s[1]);
    let ada = user(a, "ada").await;
    let bob = user(b, "bob").await;
    let ada_acct = format!("ada@{}", a.domain());
    let bob_acct = format!("bob@{}", b.domain());

    // bob on B follows ada on A.
    let ada_on_b = resolve(&bob, &ada_acct).await;
    follow(&bob, &ada_on_b).await;
    eventually("ada is told bob follows her", || {
        notification(&ada, "follow", &bob_acct)
    })
    .await;
    let (_, ada_me) = ada.get("/api/v1/accounts/verify_credentials").await;
    assert_eq!(ada_me["followers_count"], 1);

    // A profile change on A reaches B (Update of the actor).
    let r = common::client()
        .patch(ada.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&ada.token)
        .form(&[("display_name", "Ada of Finance")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("the new display name on B", || async {
        let (_, acct) = bob.get(&format!("/api/v1/accounts/{ada_on_b}")).await;
        (acct["display_name"] == "Ada of Finance").then_some(())
    })
    .await;

    // ada posts; it lands in bob's home on B.
    let (_, post) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "Quarterly numbers are in #finance"}),
        )
        .await;
    let on_b = eventually("ada's post in bob's home", || {
        home_contains(&bob, "Quarterly numbers")
    })
    .await;
    assert_eq!(on_b["account"]["acct"], ada_acct);
    assert_eq!(on_b["uri"], post["uri"]);
    let remote_id = on_b["id"].as_str().unwrap().to_string();

    // bob replies, favourites and boosts from B; ada sees each on A.
    let (code, reply) = bob
        .post(
            "/api/v1/statuses",
            json!({"status": format!("@{ada_acct} great news"), "in_reply_to_id": remote_id}),
        )
        .await;
    assert_eq!(code, 200, "{reply}");
    let mention = eventually("ada is mentioned by bob's reply", || {
        notification(&ada, "mention", &bob_acct)
    })
    .await;
    assert_eq!(mention["status"]["in_reply_to_id"], post["id"]);
    let (_, context) = ada
        .get(&format!(
            "/api/v1/statuses/{}/context",
            post["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(context["descendants"][0]["account"]["acct"], bob_acct);

    bob.post(
        &format!("/api/v1/statuses/{remote_id}/favourite"),
        json!({}),
    )
    .await;
    eventually("ada is told of the favourite", || {
        notification(&ada, "favourite", &bob_acct)
    })
    .await;
    bob.post(&format!("/api/v1/statuses/{remote_id}/reblog"), json!({}))
        .await;
    eventually("ada is told of the boost", || {
        notification(&ada, "reblog", &bob_acct)
    })
    .await;
    let post_id = post["id"].as_str().unwrap().to_string();
    eventually("counts on A", || async {
        let (_, p) = ada.get(&format!("/api/v1/statuses/{post_id}")).await;
        (p["favourites_count"] == 1 && p["reblogs_count"] == 1 && p["replies_count"] == 1)
            .then_some(())
    })
    .await;

    // An edit on A reaches B.
    ada.post("/api/v1/statuses", json!({})).await; // an empty post is refused and sends nothing
    let r = common::client()
        .put(ada.url(&format!("/api/v1/statuses/{post_id}")))
        .bearer_auth(&ada.token)
        .json(&json!({"status": "Quarterly numbers are in, revised #finance"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("the edit on B", || async {
        let (_, st) = bob.get(&format!("/api/v1/statuses/{remote_id}")).await;
        (st["content"].as_str().unwrap_or("").contains("revised") && st["edited_at"].is_string())
            .then_some(())
    })
    .await;

    // A delete on A removes it on B.
    let r = common::client()
        .delete(ada.url(&format!("/api/v1/statuses/{post_id}")))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("the delete on B", || async {
        let (code, _) = bob.get(&format!("/api/v1/statuses/{remote_id}")).await;
        (code == 404).then_some(())
    })
    .await;
    // Fetched as B's node would (signed): Gone, with a Tombstone.
    let b_key = common::node_private_key(&b.db).await;
    let r = common::signed_get(
        post["uri"].as_str().unwrap(),
        &b_key,
        &format!("http://{}/actor#main-key", b.domain()),
    )
    .await;
    assert_eq!(r.status(), 410, "a deleted status is Gone");
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "Tombstone");

    // bob unfollows; ada's follower count drops on A.
    bob.post(&format!("/api/v1/accounts/{ada_on_b}/unfollow"), json!({}))
        .await;
    eventually("the unfollow on A", || async {
        let (_, me) = ada.get("/api/v1/accounts/verify_credentials").await;
        (me["followers_count"] == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn follow_approval_across_nodes() {
    let mut s = sites(2);
    start_all(&mut s);
    let (a, b) = (&s[0], &s[1]);
    let cara = user(a, "cara").await;
    let (code, _) = common::client()
        .patch(cara.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&cara.token)
        .form(&[("locked", "true")])
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(code, 200);
    let dan = user(b, "dan").await;
    let cara_on_b = resolve(&dan, &format!("cara@{}", a.domain())).await;
    let (_, rel) = dan
        .post(&format!("/api/v1/accounts/{cara_on_b}/follow"), json!({}))
        .await;
    assert_eq!(rel["requested"], true);
    assert_eq!(rel["following"], false);
    let dan_acct = format!("dan@{}", b.domain());
    let request = eventually("cara sees the request", || {
        notification(&cara, "follow_request", &dan_acct)
    })
    .await;
    let dan_on_a = request["account"]["id"].as_str().unwrap().to_string();
    let (_, requests) = cara.get("/api/v1/follow_requests").await;
    assert_eq!(ids(&requests), vec![dan_on_a.clone()]);
    // Nothing of cara's reaches dan before she approves.
    cara.post(
        "/api/v1/statuses",
        json!({"status": "before approval", "visibility": "private"}),
    )
    .await;
    let (code, _) = cara
        .post(
            &format!("/api/v1/follow_requests/{dan_on_a}/authorize"),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    eventually("dan's follow is accepted", || async {
        let (_, rels) = dan
            .get(&format!("/api/v1/accounts/relationships?id[]={cara_on_b}"))
            .await;
        (rels[0]["following"] == true).then_some(())
    })
    .await;
    cara.post(
        "/api/v1/statuses",
        json!({"status": "after approval", "visibility": "private"}),
    )
    .await;
    eventually("the followers-only post reaches dan", || {
        home_contains(&dan, "after approval")
    })
    .await;
    assert!(home_contains(&dan, "before approval").await.is_none());
}

/// Followers-only and direct statuses reach exactly their audience: a second account on the
/// receiving node and a third node must not get them.
#[tokio::test]
async fn private_and_direct_reach_only_their_audience() {
    let mut s = sites(3);
    start_all(&mut s);
    let (a, b, c) = (&s[0], &s[1], &s[2]);
    let ada = user(a, "ada").await;
    let bob = user(b, "bob").await;
    let dan = user(b, "dan").await;
    let eve = user(c, "eve").await;
    let ada_acct = format!("ada@{}", a.domain());
    let bob_acct = format!("bob@{}", b.domain());
    for who in [&bob, &dan] {
        let id = resolve(who, &ada_acct).await;
        follow(who, &id).await;
    }
    let _ = resolve(&eve, &ada_acct).await; // eve knows of ada but does not follow her

    ada.post(
        "/api/v1/statuses",
        json!({"status": "followers only news", "visibility": "private"}),
    )
    .await;
    ada.post(
        "/api/v1/statuses",
        json!({"status": format!("@{bob_acct} just between us"), "visibility": "direct"}),
    )
    .await;
    ada.post("/api/v1/statuses", json!({"status": "public marker"}))
        .await;

    eventually("the followers-only post reaches bob", || {
        home_contains(&bob, "followers only news")
    })
    .await;
    eventually("and dan", || home_contains(&dan, "followers only news")).await;
    let direct = eventually("the direct post reaches bob", || {
        home_contains(&bob, "just between us")
    })
    .await;
    assert_eq!(direct["visibility"], "direct");
    eventually("bob is notified of the mention", || {
        notification(&bob, "mention", &ada_acct)
    })
    .await;
    eventually("the public marker reaches dan", || {
        home_contains(&dan, "public marker")
    })
    .await;
    assert!(
        home_contains(&dan, "just between us").await.is_none(),
        "dan is on bob's node but not addressed"
    );
    let direct_id = direct["id"].as_str().unwrap();
    let (code, _) = dan.get(&format!("/api/v1/statuses/{direct_id}")).await;
    assert_eq!(code, 404);
    // The third node, an org peer where nobody follows ada, got the public post (sent after
    // the others) and neither of the others: eve finds only the public one.
    let search = |text: &str| {
        let path = format!("/api/v2/search?type=statuses&q={}", text.replace(' ', "+"));
        let eve = &eve;
        async move { eve.get(&path).await.1["statuses"].as_array().unwrap().len() }
    };
    eventually("the public marker on C", || async {
        (search("public marker").await == 1).then_some(())
    })
    .await;
    for text in ["followers only news", "just between us"] {
        assert_eq!(search(text).await, 0, "{text} leaked to C");
    }
}

fn log_count(node: &Node, needle: &str) -> usize {
    node.log().lines().filter(|l| l.contains(needle)).count()
}

/// One delivery per peer node, however many followers it has there.
#[tokio::test]
async fn fan_out_makes_one_delivery_per_peer() {
    let mut s = sites(3);
    start_all(&mut s);
    let (a, b, c) = (&s[0], &s[1], &s[2]);
    let ada = user(a, "ada").await;
    let ada_acct = format!("ada@{}", a.domain());
    let mut readers = Vec::new();
    for (site, names) in [
        (b, ["b1", "b2", "b3"].as_slice()),
        (c, ["c1", "c2"].as_slice()),
    ] {
        for name in names {
            let api = user(site, name).await;
            let id = resolve(&api, &ada_acct).await;
            follow(&api, &id).await;
            readers.push(api);
        }
    }
    let before = (
        log_count(b.node(), "kind=Create"),
        log_count(c.node(), "kind=Create"),
    );
    ada.post("/api/v1/statuses", json!({"status": "to everyone at once"}))
        .await;
    for r in &readers {
        eventually("every follower has it", || {
            home_contains(r, "to everyone at once")
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = (
        log_count(b.node(), "kind=Create"),
        log_count(c.node(), "kind=Create"),
    );
    assert_eq!(
        after.0 - before.0,
        1,
        "B received one delivery for three followers"
    );
    assert_eq!(
        after.1 - before.1,
        1,
        "C received one delivery for two followers"
    );
}

/// A peer that is down gets the post when it is back, also across a restart of the sender.
#[tokio::test]
async fn deliveries_survive_outages_and_restarts() {
    let mut s = sites(2);
    let domains: Vec<String> = s.iter().map(Site::domain).collect();
    for site in s.iter_mut() {
        start(site, &domains, &[("FIKA_FEDERATION_MAX_ATTEMPTS", "3")]);
    }
    let ada = user(&s[0], "ada").await;
    let bob = user(&s[1], "bob").await;
    let ada_acct = format!("ada@{}", s[0].domain());
    let id = resolve(&bob, &ada_acct).await;
    follow(&bob, &id).await;

    // B goes down; ada posts; A is restarted while the delivery is pending; B comes back.
    let b_node = s[1].node.take().unwrap();
    assert!(b_node.stop().success());
    ada.post(
        "/api/v1/statuses",
        json!({"status": "posted while B was down"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let a_node = s[0].node.take().unwrap();
    assert!(a_node.stop().success());
    let pending = s[0].db.cli(&["admin", "deliveries"]);
    assert!(
        common::stdout(&pending).contains("pending"),
        "{}",
        common::stdout(&pending)
    );
    start(
        &mut s[1],
        &domains,
        &[("FIKA_FEDERATION_MAX_ATTEMPTS", "3")],
    );
    start(
        &mut s[0],
        &domains,
        &[("FIKA_FEDERATION_MAX_ATTEMPTS", "3")],
    );
    let bob = login(s[1].node(), "bob", "bob-password-123", "read").await;
    eventually("the post reaches B after the outage", || {
        home_contains(&bob, "posted while B was down")
    })
    .await;
    let delivered = s[0].db.cli(&["admin", "deliveries"]);
    assert!(
        !common::stdout(&delivered).contains(&s[1].domain()),
        "{}",
        common::stdout(&delivered)
    );
    let (_, home) = bob.get("/api/v1/timelines/home").await;
    let copies = home
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| {
            st["content"]
                .as_str()
                .unwrap_or("")
                .contains("posted while B was down")
        })
        .count();
    assert_eq!(copies, 1, "delivered once, not duplicated");
}

/// A peer that never comes back ends in dead letters, and does not hold up the others.
#[tokio::test]
async fn a_dead_peer_ends_in_dead_letters_without_blocking_others() {
    let mut s = sites(3);
    let domains: Vec<String> = s.iter().map(Site::domain).collect();
    for site in s.iter_mut() {
        start(site, &domains, &[("FIKA_FEDERATION_MAX_ATTEMPTS", "3")]);
    }
    let ada = user(&s[0], "ada").await;
    let ada_acct = format!("ada@{}", s[0].domain());
    let bob = user(&s[1], "bob").await;
    let gone = user(&s[2], "gone").await;
    for who in [&bob, &gone] {
        let id = resolve(who, &ada_acct).await;
        follow(who, &id).await;
    }
    let dead = s[2].node.take().unwrap();
    assert!(dead.stop().success());
    for i in 0..3 {
        let text = format!("while D is gone {i}");
        ada.post("/api/v1/statuses", json!({ "status": text }))
            .await;
        eventually("B keeps receiving", || home_contains(&bob, &text)).await;
    }
    let dead_domain = s[2].domain();
    eventually("D's deliveries end as dead letters", || async {
        let out = common::stdout(&s[0].db.cli(&["admin", "deliveries"]));
        let line = out
            .lines()
            .find(|l| l.starts_with(&dead_domain))
            .map(String::from);
        line.filter(|l| l.contains("dead") && l.trim_end().ends_with('3'))
            .map(|_| ())
    })
    .await;
}

// ---- Department-only statuses ----

/// Lines of `node`'s log saying it received an activity that names `needle`.
fn received_naming(node: &Node, needle: &str) -> Vec<String> {
    node.log()
        .lines()
        .filter(|l| l.contains("received") && l.contains(needle))
        .map(String::from)
        .collect()
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let s = if s["reblog"].is_object() {
                        &s["reblog"]
                    } else {
                        s
                    };
                    s["content"].as_str().unwrap_or_default().to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn has_text(v: &Value, needle: &str) -> bool {
    texts(v).iter().any(|t| t.contains(needle))
}

/// A department-only status (asked for as `local_only` or as `visibility: "local"`) is public on
/// its own node and reaches no peer: not delivered, not in the outbox, 404 to every signed GET,
/// not resolvable from the other node; replies to it and boosts of it stay on the node too. A
/// normal post in the same test reaches the peer, so the absences mean something.
#[tokio::test]
async fn department_only_statuses_stay_on_their_node() {
    let mut s = sites(2);
    start_all(&mut s);
    let (a, b) = (&s[0], &s[1]);
    let ada = user(a, "ada").await;
    let ann = user(a, "ann").await;
    let bob = user(b, "bob").await;
    let ada_acct = format!("ada@{}", a.domain());
    let ann_acct = format!("ann@{}", a.domain());
    let bob_acct = format!("bob@{}", b.domain());
    // bob on B follows both ada and ann on A: whatever federates of theirs reaches him.
    for acct in [&ada_acct, &ann_acct] {
        let id = resolve(&bob, acct).await;
        follow(&bob, &id).await;
    }
    let bob_on_a = {
        let (code, found) = ada
            .get(&format!(
                "/api/v2/search?type=accounts&resolve=true&q={}",
                urlencode(&bob_acct)
            ))
            .await;
        assert_eq!(code, 200, "{found}");
        found["accounts"][0]["id"].as_str().unwrap().to_string()
    };

    // The control: a normal post reaches B.
    let (code, normal) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "federated update #rollout"}),
        )
        .await;
    assert_eq!(code, 200, "{normal}");
    assert_eq!(normal["local_only"], false);
    eventually("the normal post in bob's home", || {
        home_contains(&bob, "federated update")
    })
    .await;

    // Department-only, the three ways apps ask for it.
    let (code, dept) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "department plan #rollout", "local_only": true}),
        )
        .await;
    assert_eq!(code, 200, "{dept}");
    assert_eq!(dept["visibility"], "public", "stock apps know four values");
    assert_eq!(dept["local_only"], true);
    let (code, akkoma) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "akkoma style #rollout", "visibility": "local"}),
        )
        .await;
    assert_eq!(code, 200, "{akkoma}");
    assert_eq!(akkoma["visibility"], "public");
    assert_eq!(akkoma["local_only"], true);
    let r = common::client()
        .post(ada.url("/api/v1/statuses"))
        .bearer_auth(&ada.token)
        .form(&[
            ("status", "form encoded followers note"),
            ("visibility", "private"),
            ("local_only", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let private: Value = r.json().await.unwrap();
    assert_eq!(private["visibility"], "private");
    assert_eq!(private["local_only"], true);
    let dept_id = dept["id"].as_str().unwrap().to_string();
    let dept_uri = dept["uri"].as_str().unwrap().to_string();

    // On A: local timeline, hashtag page, search, profile; as a status of its own.
    for path in [
        "/api/v1/timelines/public?local=true".to_string(),
        "/api/v1/timelines/public".to_string(),
        "/api/v1/timelines/tag/rollout".to_string(),
        "/api/v2/search?type=statuses&q=department+plan".to_string(),
        format!(
            "/api/v1/accounts/{}/statuses",
            dept["account"]["id"].as_str().unwrap()
        ),
    ] {
        let (code, page) = ann.get(&path).await;
        assert_eq!(code, 200, "{path}: {page}");
        let page = if page["statuses"].is_array() {
            page["statuses"].clone()
        } else {
            page
        };
        assert!(has_text(&page, "department plan"), "{path}: {page}");
        if !path.contains("search") {
            assert!(has_text(&page, "akkoma style"), "{path}: {page}");
        }
    }
    let (code, got) = ann.get(&format!("/api/v1/statuses/{dept_id}")).await;
    assert_eq!(code, 200);
    assert_eq!(got["local_only"], true);

    // A reply (direct, mentioning bob on B) and a boost on A: department-only, not sent.
    let (code, reply) = ann
        .post(
            "/api/v1/statuses",
            json!({
                "status": format!("@ada @{bob_acct} reply kept here"),
                "in_reply_to_id": dept_id,
                "visibility": "direct",
                "local_only": false,
            }),
        )
        .await;
    assert_eq!(code, 200, "{reply}");
    assert_eq!(reply["visibility"], "direct", "a reply keeps its own scope");
    assert_eq!(reply["local_only"], true, "and its parent's locality");
    assert!(reply["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == bob_on_a));
    let (code, boost) = ann
        .post(&format!("/api/v1/statuses/{dept_id}/reblog"), json!({}))
        .await;
    assert_eq!(code, 200, "{boost}");
    assert_eq!(boost["local_only"], true);
    assert_eq!(boost["reblog"]["id"], dept_id);
    let (code, _) = ann
        .post(&format!("/api/v1/statuses/{dept_id}/favourite"), json!({}))
        .await;
    assert_eq!(code, 200);
    eventually(
        "ada sees the reply, the boost and the favourite",
        || async {
            let (_, st) = ada.get(&format!("/api/v1/statuses/{dept_id}")).await;
            (st["replies_count"] == 1 && st["reblogs_count"] == 1 && st["favourites_count"] == 1)
                .then_some(())
        },
    )
    .await;

    // An edit that keeps it department-only is fine and is not sent; one that would make it
    // federate is refused and changes nothing.
    let (code, edited) = ada
        .put(
            &format!("/api/v1/statuses/{dept_id}"),
            json!({"status": "department plan, revised #rollout", "local_only": true}),
        )
        .await;
    assert_eq!(code, 200, "{edited}");
    assert_eq!(edited["local_only"], true);
    let (code, refused) = ada
        .put(
            &format!("/api/v1/statuses/{dept_id}"),
            json!({"status": "department plan, leaked", "local_only": false}),
        )
        .await;
    assert_eq!(code, 422, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("department-only"),
        "{refused}"
    );
    let (_, st) = ada.get(&format!("/api/v1/statuses/{dept_id}")).await;
    assert!(st["content"].as_str().unwrap().contains("revised"), "{st}");
    let (code, refused) = ada
        .put(
            &format!("/api/v1/statuses/{}", normal["id"].as_str().unwrap()),
            json!({"status": "federated update", "local_only": true}),
        )
        .await;
    assert_eq!(
        code, 422,
        "a federated status cannot be recalled: {refused}"
    );

    // Another control, posted after everything above by both authors, reaches B: anything of
    // the above that was going to be sent would have been sent by now.
    for who in [&ada, &ann] {
        let (code, _) = who
            .post("/api/v1/statuses", json!({"status": "closing marker"}))
            .await;
        assert_eq!(code, 200);
    }
    eventually("both closing markers on B", || async {
        let (_, home) = bob.get("/api/v1/timelines/home").await;
        (texts(&home)
            .iter()
            .filter(|t| t.contains("closing marker"))
            .count()
            == 2)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Absent from B everywhere.
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/public?remote=true",
        "/api/v1/timelines/tag/rollout",
        "/api/v1/notifications",
    ] {
        let (code, page) = bob.get(path).await;
        assert_eq!(code, 200, "{path}");
        let page = if path.contains("notifications") {
            Value::Array(
                page.as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|n| n.get("status").cloned())
                    .collect(),
            )
        } else {
            page
        };
        for text in [
            "department plan",
            "akkoma style",
            "form encoded",
            "reply kept here",
        ] {
            assert!(!has_text(&page, text), "{text} reached B's {path}: {page}");
        }
    }
    assert!(has_text(
        &bob.get("/api/v1/timelines/tag/rollout").await.1,
        "federated update"
    ));
    let (_, found) = bob
        .get("/api/v2/search?type=statuses&q=department+plan")
        .await;
    assert!(found["statuses"].as_array().unwrap().is_empty(), "{found}");
    // Not resolvable by URL, not by id.
    for q in [dept_uri.clone(), dept["url"].as_str().unwrap().to_string()] {
        let (code, found) = bob
            .get(&format!(
                "/api/v2/search?type=statuses&resolve=true&q={}",
                urlencode(&q).replace('/', "%2F")
            ))
            .await;
        assert_eq!(code, 200, "{found}");
        assert!(
            found["statuses"].as_array().unwrap().is_empty(),
            "{q} resolved on B: {found}"
        );
    }
    let (code, _) = bob.get(&format!("/api/v1/statuses/{dept_id}")).await;
    assert_eq!(code, 404);
    // The normal post resolves on B by its URL, as a check that the way is open.
    let (_, found) = bob
        .get(&format!(
            "/api/v2/search?type=statuses&resolve=true&q={}",
            urlencode(normal["uri"].as_str().unwrap()).replace('/', "%2F")
        ))
        .await;
    assert_eq!(found["statuses"].as_array().unwrap().len(), 1, "{found}");

    // B's signed GETs (as the node and as bob) get 404; the normal post is served.
    let b_node_key = common::node_private_key(&b.db).await;
    let b_node_key_id = format!("http://{}/actor#main-key", b.domain());
    let bob_key = common::local_private_key(&b.db, "bob").await;
    let bob_key_id = format!("http://{}/users/bob#main-key", b.domain());
    let mut local_only_uris = vec![dept_uri.clone()];
    for st in [&akkoma, &private, &reply, &boost] {
        local_only_uris.push(st["uri"].as_str().unwrap().to_string());
    }
    for uri in &local_only_uris {
        for (key, key_id) in [(&b_node_key, &b_node_key_id), (&bob_key, &bob_key_id)] {
            let r = common::signed_get(uri, key, key_id).await;
            assert_eq!(r.status(), 404, "signed GET of {uri} as {key_id}");
        }
    }
    let r = common::signed_get(normal["uri"].as_str().unwrap(), &b_node_key, &b_node_key_id).await;
    assert_eq!(r.status(), 200, "the normal post is served");
    // The outbox lists the normal post and none of the department-only ones.
    let outbox = format!("http://{}/users/ada/outbox?page=1", a.domain());
    let r = common::signed_get(&outbox, &b_node_key, &b_node_key_id).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("federated update"), "{page}");
    for text in ["department plan", "akkoma style", "form encoded"] {
        assert!(!page.contains(text), "{text} in the outbox: {page}");
    }
    // Its size counts only what is listed.
    let listed = serde_json::from_str::<Value>(&page).unwrap()["orderedItems"]
        .as_array()
        .unwrap()
        .len();
    let whole = format!("http://{}/users/ada/outbox", a.domain());
    let r = common::signed_get(&whole, &b_node_key, &b_node_key_id).await;
    let collection: Value = r.json().await.unwrap();
    assert_eq!(collection["totalItems"], json!(listed), "{collection}");

    // B's node was never sent anything about them.
    for st in [&dept, &akkoma, &private, &reply, &boost] {
        let id = st["id"].as_str().unwrap();
        let seen = received_naming(b.node(), id);
        assert!(
            seen.is_empty(),
            "B received activities about {id}: {seen:#?}"
        );
    }
    assert!(
        !received_naming(b.node(), normal["id"].as_str().unwrap()).is_empty(),
        "B's log names what it received"
    );

    // Deleted, it leaves no tombstone for peers: still a 404, not a 410.
    let r = common::client()
        .delete(ada.url(&format!("/api/v1/statuses/{dept_id}")))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = common::signed_get(&dept_uri, &b_node_key, &b_node_key_id).await;
    assert_eq!(
        r.status(),
        404,
        "a deleted department-only status is not Gone, it never was"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(received_naming(b.node(), &dept_id).is_empty());
}

/// `statuses.default_local_only` keeps posts of apps that send no flag on the node, and the
/// instance metadata says so; apps that send `local_only: false` still federate. Bad input is a
/// 422 that writes nothing.
#[tokio::test]
async fn default_local_only_and_bad_requests() {
    let mut s = sites(2);
    let domains: Vec<String> = s.iter().map(Site::domain).collect();
    start(
        &mut s[0],
        &domains,
        &[("FIKA_STATUSES_DEFAULT_LOCAL_ONLY", "true")],
    );
    start(&mut s[1], &domains, &[]);
    let (a, b) = (&s[0], &s[1]);
    let ada = user(a, "ada").await;
    let bob = user(b, "bob").await;
    let ada_on_b = resolve(&bob, &format!("ada@{}", a.domain())).await;
    follow(&bob, &ada_on_b).await;

    for (site, want) in [(a, true), (b, false)] {
        for path in ["/api/v1/instance", "/api/v2/instance"] {
            let v: Value = common::client()
                .get(site.node().url(path))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                v["configuration"]["statuses"]["default_local_only"], want,
                "{path}: {v}"
            );
        }
    }
    let (_, prefs) = ada.get("/api/v1/preferences").await;
    assert_eq!(prefs["posting:default:local_only"], true);

    let (code, quiet) = ada
        .post("/api/v1/statuses", json!({"status": "no flag sent"}))
        .await;
    assert_eq!(code, 200, "{quiet}");
    assert_eq!(quiet["local_only"], true, "the node's default");
    assert_eq!(quiet["visibility"], "public");
    let (code, out) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "asked to federate", "local_only": false}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["local_only"], false);
    eventually("the post that asked to federate reaches B", || {
        home_contains(&bob, "asked to federate")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(home_contains(&bob, "no flag sent").await.is_none());
    assert!(received_naming(b.node(), quiet["id"].as_str().unwrap()).is_empty());

    // Bad input: 422 with a Mastodon-style error, nothing written.
    let count = || async {
        let (_, me) = ada.get("/api/v1/accounts/verify_credentials").await;
        me["statuses_count"].as_i64().unwrap()
    };
    let before = count().await;
    for body in [
        json!({"status": "bad 1", "visibility": "everyone"}),
        json!({"status": "bad 2", "visibility": "Public"}),
        json!({"status": "bad 3", "local_only": "maybe"}),
        json!({"status": "bad 4", "local_only": 1}),
        json!({"status": "bad 5", "local_only": "yes"}),
        json!({"status": "bad 6", "local_only": ["true"]}),
        json!({"status": "bad 7", "visibility": "local", "local_only": false}),
    ] {
        let (code, err) = ada.post("/api/v1/statuses", body.clone()).await;
        assert_eq!(code, 422, "{body}: {err}");
        assert!(err["error"].is_string(), "{body}: {err}");
    }
    for form in [
        [("status", "bad form 1"), ("local_only", "on")],
        [("status", "bad form 2"), ("visibility", "everyone")],
    ] {
        let r = common::client()
            .post(ada.url("/api/v1/statuses"))
            .bearer_auth(&ada.token)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{form:?}");
        let err: Value = r.json().await.unwrap();
        assert!(err["error"].is_string(), "{err}");
    }
    assert_eq!(count().await, before, "nothing was written");
    let (_, found) = ada.get("/api/v2/search?type=statuses&q=bad").await;
    assert!(found["statuses"].as_array().unwrap().is_empty(), "{found}");
    // An unknown visibility on edit is refused too.
    let (code, err) = ada
        .put(
            &format!("/api/v1/statuses/{}", quiet["id"].as_str().unwrap()),
            json!({"status": "no flag sent, edited", "local_only": "maybe"}),
        )
        .await;
    assert_eq!(code, 422, "{err}");
    let (_, st) = ada
        .get(&format!(
            "/api/v1/statuses/{}",
            quiet["id"].as_str().unwrap()
        ))
        .await;
    assert!(st["edited_at"].is_null(), "{st}");
}
