//! Who federates: allowlists across three real nodes, authorized fetch, the admin API and CLI,
//! the audit log, and internal addresses.

mod common;

use std::time::Duration;

use common::{
    create_user, db_execute, eventually, free_port, local_private_key, login, node_private_key,
    signed_get, signed_post, Api, Node, TestDb,
};
use serde_json::{json, Value};

struct Site {
    db: TestDb,
    node: Node,
    domain: String,
}

fn site(port: u16, allowed: &[String]) -> Site {
    let db = TestDb::new();
    let list = format!("[{}]", allowed.join(", "));
    let node = Node::start_on(
        &db,
        port,
        &[
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
            ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
            ("FIKA_FEDERATION_ALLOWED_DOMAINS", list.as_str()),
            // Fetches are counted here: no backfill (and its profile updates) in between.
            ("FIKA_FEDERATION_BACKFILL_STATUSES", "0"),
        ],
    );
    Site {
        db,
        node,
        domain: format!("127.0.0.1:{port}"),
    }
}

async fn user(s: &Site, name: &str) -> Api {
    let password = create_user(&s.db, name);
    login(&s.node, name, &password, "read write follow").await
}

async fn search_account(api: &Api, acct: &str) -> Option<String> {
    let q = acct.replace('@', "%40").replace(':', "%3A");
    let (_, found) = api
        .get(&format!("/api/v2/search?type=accounts&resolve=true&q={q}"))
        .await;
    found["accounts"]
        .as_array()?
        .first()
        .map(|a| a["id"].as_str().unwrap().to_string())
}

async fn home_has(api: &Api, text: &str) -> bool {
    let (_, home) = api.get("/api/v1/timelines/home").await;
    home.as_array()
        .unwrap()
        .iter()
        .any(|s| s["content"].as_str().unwrap_or("").contains(text))
}

fn key_id(s: &Site) -> String {
    format!("http://{}/actor#main-key", s.domain)
}

#[tokio::test]
async fn only_allowed_peers_federate_and_removal_takes_effect_at_once() {
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let d = |p: u16| format!("127.0.0.1:{p}");
    let a = site(pa, &[d(pb)]);
    let b = site(pb, &[d(pa)]);
    // C allows A and B, but neither allows C.
    let c = site(pc, &[d(pa), d(pb)]);
    let ada = user(&a, "ada").await;
    let bob = user(&b, "bob").await;
    let cat = user(&c, "cat").await;
    let ada_acct = format!("ada@{}", a.domain);

    // A and B federate normally.
    let ada_on_b = search_account(&bob, &ada_acct)
        .await
        .expect("B resolves ada");
    bob.post(&format!("/api/v1/accounts/{ada_on_b}/follow"), json!({}))
        .await;
    eventually("bob follows ada", || async {
        let (_, r) = bob
            .get(&format!("/api/v1/accounts/relationships?id[]={ada_on_b}"))
            .await;
        (r[0]["following"] == true).then_some(())
    })
    .await;

    // C cannot even look ada up: A refuses C's signed fetch.
    assert!(search_account(&cat, &ada_acct).await.is_none());
    let c_key = node_private_key(&c.db).await;
    let ada_url = format!("http://{}/users/ada", a.domain);
    let r = signed_get(&ada_url, &c_key, &key_id(&c)).await;
    assert_eq!(r.status(), 403, "a valid signature from a refused peer");
    let body: Value = r.json().await.unwrap();
    assert!(
        body.get("inbox").is_none() && body["error"].is_string(),
        "{body}"
    );
    // ...nor deliver to A's inbox.
    let follow = json!({"id": format!("http://{}/actor#follow/1", c.domain), "type": "Follow",
        "actor": format!("http://{}/actor", c.domain), "object": ada_url});
    let r = signed_post(
        &format!("http://{}/inbox", a.domain),
        &follow,
        &c_key,
        &key_id(&c),
    )
    .await;
    assert_eq!(r.status(), 403);
    let (_, notes) = ada.get("/api/v1/notifications").await;
    assert_eq!(
        notes.as_array().unwrap().len(),
        1,
        "only bob's follow: {notes}"
    );

    // Posts from A reach B, never C.
    let (_, post) = ada
        .post("/api/v1/statuses", json!({"status": "allowlist check one"}))
        .await;
    eventually("the post reaches B", || async {
        home_has(&bob, "allowlist check one").await.then_some(())
    })
    .await;
    let r = signed_get(post["uri"].as_str().unwrap(), &c_key, &key_id(&c)).await;
    assert_eq!(r.status(), 403, "C cannot fetch the status either");
    assert_eq!(
        c.node.log().matches("received").count(),
        0,
        "C received nothing"
    );
    let (_, cat_home) = cat.get("/api/v1/timelines/home").await;
    assert!(cat_home.as_array().unwrap().is_empty());

    // A's admin removes B: A stops delivering to B, and B loses access to A.
    let admin = login(
        &a.node,
        "admin",
        a.node.admin_password.as_deref().unwrap(),
        "read write admin:read admin:write",
    )
    .await;
    let (code, created) = admin
        .post("/api/v1/admin/domain_allows", json!({"domain": b.domain}))
        .await;
    assert_eq!(code, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let r = common::client()
        .delete(admin.url(&format!("/api/v1/admin/domain_allows/{id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // B is still in A's configuration file; a block (which wins) takes it out at once.
    let (code, _) = admin
        .post("/api/v1/admin/domain_blocks", json!({"domain": b.domain}))
        .await;
    assert_eq!(code, 200);
    ada.post("/api/v1/statuses", json!({"status": "allowlist check two"}))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !home_has(&bob, "allowlist check two").await,
        "nothing reaches a removed peer"
    );
    let b_key = node_private_key(&b.db).await;
    let r = signed_get(&ada_url, &b_key, &key_id(&b)).await;
    assert_eq!(r.status(), 403);
    assert!(
        a.node.log().contains("is not an allowed peer") || a.node.log().contains("policy refuses"),
        "A logs why"
    );

    // Every change is in the audit log, via the API and the CLI (beside the accounts the test
    // made, `account.create`: policy actions have no dot).
    let (_, audit) = admin.get("/api/v1/admin/federation/audit").await;
    let policy: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().contains('.'))
        .collect();
    let actions: Vec<&str> = policy
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["block", "remove allow", "allow"], "{audit}");
    assert!(policy
        .iter()
        .all(|e| e["actor"] == "api:admin" && e["domain"] == b.domain.as_str()));
    let out = a.db.cli(&["admin", "federation", "audit"]);
    let policy_lines = common::stdout(&out)
        .lines()
        .filter(|l| !l.contains("account.create"))
        .count();
    assert_eq!(policy_lines, 3, "{}", common::stdout(&out));
}

#[tokio::test]
async fn admin_api_and_cli_manage_the_lists() {
    let db = TestDb::new();
    let node = Node::start_on(&db, free_port(), &[("FIKA_OAUTH_PASSWORD_GRANT", "true")]);
    let password = node.admin_password.clone().unwrap();
    let admin = login(
        &node,
        "admin",
        &password,
        "read write admin:read admin:write",
    )
    .await;
    let reader = login(&node, "admin", &password, "read").await;
    let staff_pw = create_user(&db, "staff");
    let staff = login(
        &node,
        "staff",
        &staff_pw,
        "read write admin:read admin:write",
    )
    .await;

    let (code, _) = reader.get("/api/v1/admin/domain_allows").await;
    assert_eq!(code, 403, "admin scope required");
    let (code, _) = staff.get("/api/v1/admin/domain_allows").await;
    assert_eq!(code, 403, "admin role required");
    let (code, _) = staff
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "evil.example"}),
        )
        .await;
    assert_eq!(code, 403);

    let (code, allow) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "Sales.Example.com"}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(allow["domain"], "sales.example.com");
    assert_eq!(allow["tier"], "org", "new entries are the organisation's");
    let (_, list) = admin.get("/api/v1/admin/domain_allows/").await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Tiers: set on creation, changed in place, refused when unknown (nothing written).
    let (code, partner) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "supplier.example", "tier": "partner"}),
        )
        .await;
    assert_eq!(code, 200, "{partner}");
    assert_eq!(partner["tier"], "partner");
    let partner_path = format!(
        "/api/v1/admin/domain_allows/{}",
        partner["id"].as_str().unwrap()
    );
    let (code, changed) = admin.put(&partner_path, json!({"tier": "org"})).await;
    assert_eq!(code, 200, "{changed}");
    assert_eq!(changed["tier"], "org");
    let (code, err) = admin.put(&partner_path, json!({"tier": "friend"})).await;
    assert_eq!(code, 422, "{err}");
    assert!(err["error"].as_str().unwrap().contains("tier"), "{err}");
    let (code, _) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "other.example", "tier": "friend"}),
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = admin
        .post(
            "/api/v1/admin/domain_blocks",
            json!({"domain": "other.example", "tier": "org"}),
        )
        .await;
    assert_eq!(code, 422, "a block has no tier");
    let (_, fetched) = admin.get(&partner_path).await;
    assert_eq!(fetched["tier"], "org");
    // Allowing again with another tier changes it.
    let (_, again) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "supplier.example", "tier": "partner"}),
        )
        .await;
    assert_eq!(
        (again["id"].clone(), again["tier"].clone()),
        (partner["id"].clone(), json!("partner"))
    );
    let (_, list) = admin.get("/api/v1/admin/domain_allows/").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(admin.delete(&partner_path).await.0.is_success());
    let (code, _) = admin
        .post(
            "/api/v1/admin/domain_allows",
            json!({"domain": "not a domain"}),
        )
        .await;
    assert_eq!(code, 422);
    let (code, block) = admin
        .post(
            "/api/v1/admin/domain_blocks",
            json!({"domain": "spam.example"}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(block["severity"], "suspend");
    let (code, _) = admin
        .post(
            "/api/v1/admin/domain_blocks",
            json!({"domain": "spam.example"}),
        )
        .await;
    assert_eq!(code, 422, "already blocked");

    // The CLI sees and changes the same lists.
    let out = db.cli(&["admin", "federation", "list"]);
    let listing = common::stdout(&out);
    assert!(
        listing.contains("allow  sales.example.com") && listing.contains("block  spam.example"),
        "{listing}"
    );
    assert!(db
        .cli(&["admin", "federation", "allow", "hq.example"])
        .status
        .success());
    assert!(db
        .cli(&[
            "admin",
            "federation",
            "allow",
            "vendor.example",
            "--tier",
            "partner"
        ])
        .status
        .success());
    let listing = common::stdout(&db.cli(&["admin", "federation", "list"]));
    assert!(
        listing
            .lines()
            .any(|l| l.contains("vendor.example") && l.contains("partner")),
        "{listing}"
    );
    assert!(db
        .cli(&["admin", "federation", "tier", "vendor.example", "org"])
        .status
        .success());
    assert!(!db
        .cli(&["admin", "federation", "tier", "vendor.example", "friend"])
        .status
        .success());
    assert!(!db
        .cli(&["admin", "federation", "tier", "unknown.example", "org"])
        .status
        .success());
    let listing = common::stdout(&db.cli(&["admin", "federation", "list"]));
    assert!(
        listing
            .lines()
            .any(|l| l.contains("vendor.example") && l.contains(" org ")),
        "{listing}"
    );
    assert!(db
        .cli(&["admin", "federation", "remove", "vendor.example"])
        .status
        .success());
    assert!(db
        .cli(&["admin", "federation", "deny", "bad.example"])
        .status
        .success());
    assert!(db
        .cli(&["admin", "federation", "remove", "sales.example.com"])
        .status
        .success());
    assert!(db
        .cli(&["admin", "federation", "mode", "blocklist"])
        .status
        .success());
    assert!(!db
        .cli(&["admin", "federation", "mode", "open"])
        .status
        .success());
    let (_, list) = admin.get("/api/v1/admin/domain_allows").await;
    let domains: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, vec!["hq.example"]);
    let out = common::stdout(&db.cli(&["admin", "federation", "list"]));
    assert!(out.starts_with("mode: Blocklist"), "{out}");
    let (_, audit) = admin.get("/api/v1/admin/federation/audit").await;
    let entries: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        // Policy changes only: account changes (`account.create`) are audited too.
        .filter(|(_, action)| !action.contains('.'))
        .collect();
    let expect = [
        ("cli", "mode"),
        ("cli", "remove"),
        ("cli", "block"),
        ("cli", "remove"),
        ("cli", "tier"),
        ("cli", "allow"),
        ("cli", "allow"),
        ("api", "block"),
        ("api", "remove allow"),
        ("api", "tier"),
        ("api", "tier"),
        ("api", "allow"),
        ("api", "allow"),
    ];
    assert_eq!(
        entries,
        expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}

/// A fetch the client API asks for, to an internal address that is not an allowed peer, is
/// refused before any connection is made.
#[tokio::test]
async fn internal_addresses_are_not_fetched_unless_allowed() {
    let listener = std::net::TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    listener.set_nonblocking(true).unwrap();
    let trap = listener.local_addr().unwrap();
    let db = TestDb::new();
    let node = Node::start_on(
        &db,
        free_port(),
        &[
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ],
    );
    let api = login(
        &node,
        "admin",
        node.admin_password.as_deref().unwrap(),
        "read write",
    )
    .await;
    for q in [format!("http://{trap}/users/x"), format!("x@{trap}")] {
        let q = q
            .replace('@', "%40")
            .replace(':', "%3A")
            .replace('/', "%2F");
        let (code, found) = api.get(&format!("/api/v2/search?resolve=true&q={q}")).await;
        assert_eq!(code, 200);
        assert!(found["accounts"].as_array().unwrap().is_empty());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        listener.accept().is_err(),
        "no connection reached the internal address"
    );
    assert!(
        node.log().contains("not an allowed peer"),
        "the refusal is logged"
    );

    // In blocklist mode an internal address is still refused unless explicitly allowed.
    let db = TestDb::new();
    let node = Node::start_on(
        &db,
        free_port(),
        &[
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
            ("FIKA_FEDERATION_MODE", "blocklist"),
        ],
    );
    let api = login(
        &node,
        "admin",
        node.admin_password.as_deref().unwrap(),
        "read write",
    )
    .await;
    let q = format!("http://{trap}/users/x")
        .replace(':', "%3A")
        .replace('/', "%2F");
    api.get(&format!("/api/v2/search?resolve=true&q={q}")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let accepted = listener.accept();
    assert!(
        accepted.is_err(),
        "no connection in blocklist mode either: {:?}\n{}",
        accepted.map(|a| a.1),
        node.log()
    );
    assert!(node.log().contains("internal address"), "{}", node.log());
}

/// GETs answered by `node` on a metrics route group (`/users`, `/actor`), any status.
async fn gets_served(node: &Node, route: &str) -> f64 {
    let text = common::client()
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("fika_http_requests_total{{route=\"{route}\",method=\"GET\",");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A failed signature from a known signer refetches its actor (the key may have been
/// rotated), but a flood of forged requests naming that key makes at most one refetch; a
/// rotated key is still picked up.
#[tokio::test]
async fn forged_signatures_from_a_known_signer_cause_at_most_one_refetch() {
    let (pa, pb) = (free_port(), free_port());
    let d = |p: u16| format!("127.0.0.1:{p}");
    let a = site(pa, &[d(pb)]);
    let b = site(pb, &[d(pa)]);
    let ada = user(&a, "ada").await;
    let _bob = user(&b, "bob").await;
    // A knows bob (and his key) from a lookup, and B's node actor from a signed fetch.
    search_account(&ada, &format!("bob@{}", b.domain))
        .await
        .expect("A resolves bob");
    let ada_url = format!("http://{}/users/ada", a.domain);
    let b_node_key = node_private_key(&b.db).await;
    let r = signed_get(&ada_url, &b_node_key, &key_id(&b)).await;
    assert_eq!(r.status(), 200);

    // A key fetched in the last ten minutes is trusted as it is: forged requests cost no fetch.
    let bob_key_id_now = format!("http://{}/users/bob#main-key", b.domain);
    let before = gets_served(&b.node, "/users").await;
    for _ in 0..5 {
        let r = signed_get(&ada_url, &b_node_key, &bob_key_id_now).await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(gets_served(&b.node, "/users").await - before, 0.0);
    assert!(a.node.log().contains("fetched recently"), "A logs why");
    // Once A's copies are older, a failure may mean a rotated key.
    db_execute(
        &a.db,
        "UPDATE accounts SET fetched_at = 0 WHERE domain <> ''",
        &[],
    )
    .await;

    // Requests naming bob's key, signed with another key: refused, one refetch in all.
    let bob_key_id = format!("http://{}/users/bob#main-key", b.domain);
    let before = gets_served(&b.node, "/users").await;
    for _ in 0..20 {
        let r = signed_get(&ada_url, &b_node_key, &bob_key_id).await;
        assert_eq!(r.status(), 401);
    }
    let refetches = gets_served(&b.node, "/users").await - before;
    assert_eq!(
        refetches, 1.0,
        "one refetch of bob's actor for 20 forged requests"
    );
    // bob's real key still works, without a fetch.
    let bob_key = local_private_key(&b.db, "bob").await;
    let r = signed_get(&ada_url, &bob_key, &bob_key_id).await;
    assert_eq!(r.status(), 200);
    assert_eq!(gets_served(&b.node, "/users").await - before, 1.0);

    // B's node rotates its key: A refetches B's actor once and takes the new key.
    db_execute(
        &a.db,
        "UPDATE accounts SET fetched_at = 0 WHERE domain <> ''",
        &[],
    )
    .await;
    let (private, public) = fika::domain::accounts::generate_key_pair().unwrap();
    db_execute(
        &b.db,
        "UPDATE node_keys SET private_key_pem = $1, public_key_pem = $2",
        &[&private, &public],
    )
    .await;
    let before = gets_served(&b.node, "/actor").await;
    for _ in 0..3 {
        let r = signed_get(&ada_url, &private, &key_id(&b)).await;
        assert_eq!(r.status(), 200, "the rotated key verifies");
    }
    assert_eq!(gets_served(&b.node, "/actor").await - before, 1.0);
    // The old key no longer verifies, and the refused request fetches nothing.
    let r = signed_get(&ada_url, &b_node_key, &key_id(&b)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(gets_served(&b.node, "/actor").await - before, 1.0);
}
