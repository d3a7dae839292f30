//! The organisation's public conversation, peer to peer: A and B are each other's `org` peers,
//! C is allowed by both as a `partner`, D is allowed by nobody. Real nodes on loopback.

mod common;

use std::time::Duration;

use common::{create_user, db_scalar, eventually, free_port, login, Api, Node, Stream, TestDb};
use serde_json::{json, Value};

struct Site {
    db: TestDb,
    port: u16,
    node: Node,
}

impl Site {
    fn node(&self) -> &Node {
        &self.node
    }
}

fn domain(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

fn list(domains: &[&String]) -> String {
    format!(
        "[{}]",
        domains
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn start(db: TestDb, port: u16, org: &[&String], partners: &[&String]) -> Site {
    let (org, partners) = (list(org), list(partners));
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", org.as_str()),
        ("FIKA_FEDERATION_PARTNER_DOMAINS", partners.as_str()),
    ];
    let node = Node::start_on(&db, port, &env);
    Site { db, port, node }
}

struct Org {
    a: Site,
    b: Site,
    c: Site,
    d: Site,
}

/// A and B: org peers of each other, C a partner of both. C and D think of A and B as their
/// org peers (so they push to them): what A and B take in is decided on their side.
fn org() -> Org {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let [a, b, c] = [0, 1, 2].map(|i| domain(ports[i]));
    Org {
        a: start(TestDb::new(), ports[0], &[&b], &[&c]),
        b: start(TestDb::new(), ports[1], &[&a], &[&c]),
        c: start(TestDb::new(), ports[2], &[&a, &b], &[]),
        d: start(TestDb::new(), ports[3], &[&a, &b], &[]),
    }
}

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(site.node(), name, &password, "read write follow").await
}

async fn post(api: &Api, body: Value) -> Value {
    let (code, status) = api.post("/api/v1/statuses", body).await;
    assert_eq!(code, 200, "{status}");
    status
}

fn contents(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["content"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn has(api: &Api, path: &str, text: &str) -> bool {
    let (code, list) = api.get(path).await;
    assert_eq!(code, 200, "{path}: {list}");
    contents(&list).iter().any(|c| c.contains(text))
}

const FEDERATED: &str = "/api/v1/timelines/public?remote=true";

/// How many statuses a node stores with this text (whatever their visibility).
async fn stored(site: &Site, text: &str) -> i64 {
    db_scalar(
        &site.db,
        "SELECT COUNT(*) FROM statuses WHERE text LIKE $1 OR content LIKE $1",
        &[&format!("%{text}%")],
    )
    .await
}

fn received_naming(site: &Site, needle: &str) -> usize {
    site.node()
        .log()
        .lines()
        .filter(|l| l.contains("received") && l.contains(needle))
        .count()
}

#[tokio::test]
async fn public_statuses_reach_every_org_peer_and_only_them() {
    let net = org();
    let ana = user(&net.a, "ana").await;
    let bea = user(&net.b, "bea").await;
    let cy = user(&net.c, "cy").await;
    let dan = user(&net.d, "dan").await;
    let mut remote_stream = Stream::open(&bea, "/api/v1/streaming/public/remote").await;
    let mut tag_stream = Stream::open(&bea, "/api/v1/streaming/hashtag?tag=quarterly").await;

    // Nobody follows ana anywhere: her public post still reaches B, her org peer.
    let st = post(
        &ana,
        json!({"status": "the #quarterly figures: numbers are in", "visibility": "public"}),
    )
    .await;
    let id = st["id"].as_str().unwrap().to_string();
    eventually("ana's post in B's federated timeline", || async {
        has(&bea, FEDERATED, "numbers are in").await.then_some(())
    })
    .await;
    assert!(has(&bea, "/api/v1/timelines/tag/quarterly", "numbers are in").await);
    for stream in [&mut remote_stream, &mut tag_stream] {
        let seen = loop {
            let (event, data) = stream.next().await;
            if event == "update" {
                break data;
            }
        };
        assert!(seen.contains("numbers are in"), "{seen}");
    }
    let (_, found) = bea
        .get("/api/v2/search?type=statuses&q=numbers%20are%20in")
        .await;
    assert!(
        contents(&found["statuses"])
            .iter()
            .any(|c| c.contains("numbers are in")),
        "B's status search finds it: {found}"
    );
    // Not in B's home: nobody there follows ana.
    assert!(!has(&bea, "/api/v1/timelines/home", "numbers are in").await);

    // Unlisted, followers-only and department-only statuses stay with follows (none here).
    for (text, extra) in [
        ("an unlisted aside", json!({"visibility": "unlisted"})),
        ("for followers only", json!({"visibility": "private"})),
        ("our department only", json!({"local_only": true})),
    ] {
        let mut body = extra.clone();
        body["status"] = json!(text);
        post(&ana, body).await;
    }
    // A marker after them: once it is on B, anything sent before it would be too.
    post(&ana, json!({"status": "marker after the others"})).await;
    eventually("the marker on B", || async {
        has(&bea, FEDERATED, "marker after the others")
            .await
            .then_some(())
    })
    .await;
    for text in [
        "an unlisted aside",
        "for followers only",
        "our department only",
    ] {
        assert_eq!(stored(&net.b, text).await, 0, "{text} reached B");
    }
    // One delivery per status to B.
    assert_eq!(
        received_naming(&net.b, &format!("/statuses/{id}#create")),
        1
    );

    // C (a partner) and D (allowed by nobody) got nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (site, api) in [(&net.c, &cy), (&net.d, &dan)] {
        assert_eq!(stored(site, "numbers are in").await, 0);
        assert!(!has(api, FEDERATED, "numbers are in").await);
        assert_eq!(received_naming(site, &id), 0);
    }
    // C counts A as an org peer and tries to backfill from it; A refuses a partner (403).
    let a_domain = domain(net.a.port);
    eventually("C's backfill of A refused", || async {
        net.c
            .node()
            .log()
            .lines()
            .any(|l| l.contains("backfill failed") && l.contains(&a_domain) && l.contains("403"))
            .then_some(())
    })
    .await;

    // An edit and a delete on A reach B.
    let (code, edited) = ana
        .put(
            &format!("/api/v1/statuses/{id}"),
            json!({"status": "the #quarterly figures: numbers are in, revised"}),
        )
        .await;
    assert_eq!(code, 200, "{edited}");
    eventually("the edit on B", || async {
        has(&bea, FEDERATED, "numbers are in, revised")
            .await
            .then_some(())
    })
    .await;
    let (code, _) = ana.delete(&format!("/api/v1/statuses/{id}")).await;
    assert_eq!(code, 200);
    eventually("the delete on B", || async {
        (stored(&net.b, "numbers are in").await == 0).then_some(())
    })
    .await;

    // Once a user on C follows ana, her public posts reach C (through the follow).
    let (_, found) = cy
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q=ana%40{}",
            domain(net.a.port)
        ))
        .await;
    let ana_on_c = found["accounts"][0]["id"]
        .as_str()
        .expect("ana found")
        .to_string();
    let (code, rel) = cy
        .post(&format!("/api/v1/accounts/{ana_on_c}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    eventually("the follow accepted", || async {
        let (_, rel) = cy
            .get(&format!("/api/v1/accounts/relationships?id[]={ana_on_c}"))
            .await;
        (rel[0]["following"] == true).then_some(())
    })
    .await;
    post(&ana, json!({"status": "now C hears of it"})).await;
    eventually("the post in cy's home", || async {
        has(&cy, "/api/v1/timelines/home", "now C hears of it")
            .await
            .then_some(())
    })
    .await;
    assert!(has(&cy, FEDERATED, "now C hears of it").await);
    // D still has nothing of A's.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored(&net.d, "now C hears of it").await, 0);
}

#[tokio::test]
async fn unasked_statuses_from_a_partner_are_refused() {
    let net = org();
    let bea = user(&net.b, "bea").await;
    let cal = user(&net.c, "cal").await;
    let dan = user(&net.d, "dan").await;
    // C counts B as an org peer and pushes its public posts there; B counts C as a partner.
    post(&cal, json!({"status": "unasked partner news"})).await;
    // D pushes too; B does not allow D at all.
    post(&dan, json!({"status": "news from nowhere"})).await;
    eventually("B refusing C's post", || async {
        net.b
            .node()
            .log()
            .lines()
            .any(|l| l.contains("activity refused") && l.contains("partner peer"))
            .then_some(())
    })
    .await;
    assert_eq!(stored(&net.b, "unasked partner news").await, 0);
    assert!(!has(&bea, FEDERATED, "unasked partner news").await);
    assert_eq!(stored(&net.b, "news from nowhere").await, 0);
    // A reply to one of B's statuses is asked for, partner or not.
    let st = post(&bea, json!({"status": "a question for everyone"})).await;
    let uri = st["uri"].as_str().unwrap();
    let (_, found) = cal
        .get(&format!(
            "/api/v2/search?type=statuses&resolve=true&q={}",
            uri.replace(':', "%3A").replace('/', "%2F")
        ))
        .await;
    let on_c = found["statuses"][0]["id"]
        .as_str()
        .expect("resolved")
        .to_string();
    post(
        &cal,
        json!({"status": "an answer from a partner", "in_reply_to_id": on_c}),
    )
    .await;
    eventually("the reply on B", || async {
        (stored(&net.b, "an answer from a partner").await == 1).then_some(())
    })
    .await;
}

async fn admin_of(site: &Site) -> Api {
    let password = site.node().admin_password.clone().expect("first start");
    login(
        site.node(),
        "admin",
        &password,
        "read write admin:read admin:write",
    )
    .await
}

async fn allow(admin: &Api, domain: &str, tier: &str) -> String {
    let (code, entry) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": domain, "tier": tier}),
        )
        .await;
    assert_eq!(code, 200, "{entry}");
    entry["id"].as_str().unwrap().to_string()
}

async fn metric(site: &Site, needle: &str) -> Option<i64> {
    let text = common::client()
        .get(site.node().url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("fika_backfill_statuses") && l.contains(needle))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// A node that becomes an org peer later fetches the other's recent public statuses (only
/// public, the newest `federation.backfill_statuses`), placed in time; doing it again stores
/// nothing twice.
#[tokio::test]
async fn a_new_org_peer_backfills_recent_public_statuses() {
    let (a_port, e_port) = (free_port(), free_port());
    let a = start(TestDb::new(), a_port, &[], &[]);
    let ana = user(&a, "ana").await;
    let (code, _) = ana
        .patch(
            "/api/v1/accounts/update_credentials",
            json!({"discoverable": true, "fields_attributes": [{"name": "Skills", "value": "archives"}]}),
        )
        .await;
    assert_eq!(code, 200);
    for i in 0..6 {
        post(&ana, json!({"status": format!("history item {i}")})).await;
    }
    post(
        &ana,
        json!({"status": "history unlisted", "visibility": "unlisted"}),
    )
    .await;
    post(
        &ana,
        json!({"status": "history of the department", "local_only": true}),
    )
    .await;

    let e_db = TestDb::new();
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_BACKFILL_STATUSES", "4"),
    ];
    let e = Site {
        node: Node::start_on(&e_db, e_port, &env),
        db: e_db,
        port: e_port,
    };
    let eve = user(&e, "eve").await;
    // Both sides allow each other as org peers, through the admin API.
    allow(&admin_of(&a).await, &domain(e.port), "org").await;
    let e_admin = admin_of(&e).await;
    let entry = allow(&e_admin, &domain(a.port), "org").await;
    let a_on_e = domain(a.port);
    let done = format!("peer=\"{a_on_e}\",state=\"done\",count=\"stored\"");
    eventually("the backfill done on E", || async {
        metric(&e, &done).await.filter(|n| *n == 4)
    })
    .await;
    let (_, timeline) = eve.get(FEDERATED).await;
    let texts: Vec<String> = contents(&timeline)
        .into_iter()
        .filter(|c| c.contains("history"))
        .collect();
    assert_eq!(texts.len(), 4, "{timeline}");
    // The newest four, newest first: placed by when they were written.
    for (i, text) in texts.iter().enumerate() {
        assert!(
            text.contains(&format!("history item {}", 5 - i)),
            "{texts:?}"
        );
    }
    assert_eq!(stored(&e, "history unlisted").await, 0);
    assert_eq!(stored(&e, "history of the department").await, 0);
    assert!(e.node().log().contains("backfill done"));
    // A, having backfilled E, sent its discoverable people to E's directory.
    let ana_acct = format!("ana@{}", domain(a.port));
    eventually("ana in E's directory", || async {
        let (_, dir) = eve.get("/api/v1/directory?local=false").await;
        accts(&dir).contains(&ana_acct).then_some(())
    })
    .await;
    assert!(found_by_skill(&eve, "archives").await.contains(&ana_acct));

    // Partner, then org again: a second backfill, which stores nothing twice.
    let path = format!("/api/v1/admin/domain_allows/{entry}");
    for tier in ["partner", "org"] {
        let (code, changed) = e_admin.put(&path, json!({"tier": tier})).await;
        assert_eq!(code, 200, "{changed}");
        // Long enough for the worker to see the partner tier and drop the row.
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    let again = format!("peer=\"{a_on_e}\",state=\"done\",count=\"fetched\"");
    eventually("the second backfill done on E", || async {
        metric(&e, &again).await.filter(|n| *n == 4)
    })
    .await;
    assert_eq!(metric(&e, &done).await, Some(0), "nothing stored twice");
    assert_eq!(stored(&e, "history item").await, 4);
    // The collection is for allowed peers only: an unsigned read gets 401.
    let r = common::client()
        .get(a.node().url("/actor/outbox?page=1"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

fn accts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["acct"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn found_by_skill(api: &Api, q: &str) -> Vec<String> {
    let (code, found) = api
        .get(&format!("/api/v2/search?type=accounts&q={q}"))
        .await;
    assert_eq!(code, 200, "{found}");
    accts(&found["accounts"])
}

/// A discoverable profile's change reaches every org peer's directory and profile search,
/// without anyone there following or looking the person up; a non-discoverable one, a partner
/// and a node allowed by nobody get nothing.
#[tokio::test]
async fn discoverable_profiles_reach_org_peers_directories() {
    let net = org();
    let tess = user(&net.a, "tess").await;
    let nora = user(&net.a, "nora").await;
    let bea = user(&net.b, "bea").await;
    let cy = user(&net.c, "cy").await;
    let dan = user(&net.d, "dan").await;
    let skills = json!({
        "discoverable": true,
        "fields_attributes": [{"name": "Skills", "value": "terraform, kubernetes"}],
    });
    let (code, me) = tess
        .patch("/api/v1/accounts/update_credentials", skills.clone())
        .await;
    assert_eq!(code, 200, "{me}");
    let mut hidden = skills.clone();
    hidden["discoverable"] = json!(false);
    let (code, _) = nora
        .patch("/api/v1/accounts/update_credentials", hidden)
        .await;
    assert_eq!(code, 200);
    let tess_acct = format!("tess@{}", domain(net.a.port));
    eventually("tess found by skill on B", || async {
        found_by_skill(&bea, "terraform")
            .await
            .contains(&tess_acct)
            .then_some(())
    })
    .await;
    let (_, dir) = bea.get("/api/v1/directory?local=false").await;
    assert!(accts(&dir).contains(&tess_acct), "{dir}");
    let nora_acct = format!("nora@{}", domain(net.a.port));
    assert!(!found_by_skill(&bea, "terraform").await.contains(&nora_acct));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for api in [&cy, &dan] {
        assert!(found_by_skill(api, "terraform").await.is_empty());
        let (_, dir) = api.get("/api/v1/directory?local=false").await;
        assert!(!accts(&dir).contains(&tess_acct), "{dir}");
    }
}
