//! Who knows what: featured hashtags, `discoverable`, the directory and profile search, on one
//! node and across two real nodes on loopback.

mod common;

use common::{create_user, eventually, free_port, login, Api, Node, TestDb};
use serde_json::{json, Value};

async fn user(db: &TestDb, node: &Node, name: &str) -> Api {
    let password = create_user(db, name);
    login(node, name, &password, "read write follow").await
}

async fn patch_profile(api: &Api, body: Value) -> Value {
    let (code, me) = api.patch("/api/v1/accounts/update_credentials", body).await;
    assert_eq!(code, 200, "{me}");
    me
}

async fn delete(api: &Api, path: &str) -> (reqwest::StatusCode, Value) {
    api.delete(path).await
}

fn accts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|a| a["acct"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn search(api: &Api, q: &str) -> Vec<String> {
    let (code, found) = api
        .get(&format!("/api/v2/search?type=accounts&q={q}"))
        .await;
    assert_eq!(code, 200, "{found}");
    accts(&found["accounts"])
}

fn skills(value: &str) -> Value {
    json!({"fields_attributes": [{"name": "Skills", "value": value}]})
}

#[tokio::test]
async fn featured_tags_discoverable_directory_and_profile_search_on_one_node() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let ada = user(&db, &node, "ada").await;
    let bob = user(&db, &node, "bob").await;
    let cy = user(&db, &node, "cy").await;
    let terraform = user(&db, &node, "terraform").await;

    // Featured tags: empty, then one (with or without '#'), counted from ada's posts.
    for text in ["#Rust at work", "more #rust", "#terraform plans"] {
        let (code, s) = ada.post("/api/v1/statuses", json!({"status": text})).await;
        assert_eq!(code, 200, "{s}");
    }
    let (code, list) = ada.get("/api/v1/featured_tags").await;
    assert_eq!((code.as_u16(), list), (200, json!([])));
    let (code, rust) = ada
        .post("/api/v1/featured_tags", json!({"name": "#Rust"}))
        .await;
    assert_eq!(code, 200, "{rust}");
    assert_eq!(rust["name"], "Rust");
    assert_eq!(
        rust["statuses_count"], "2",
        "a string, as Mastodon sends it"
    );
    assert_eq!(rust["last_status_at"].as_str().unwrap().len(), 10);
    assert!(rust["id"].is_string());
    assert!(
        rust["url"].as_str().unwrap().ends_with("/@ada/tagged/rust"),
        "{rust}"
    );

    // Bad names and duplicates: 422 with a Mastodon-style error, nothing written.
    for bad in [
        json!({"name": "not a tag"}),
        json!({"name": "2026"}),
        json!({"name": "#"}),
        json!({"name": "c++"}),
        json!({}),
        json!({"name": "rust"}),
        json!({"name": "#RUST"}),
    ] {
        let (code, err) = ada.post("/api/v1/featured_tags", bad.clone()).await;
        assert_eq!(code, 422, "{bad}: {err}");
        assert!(err["error"].is_string(), "{err}");
    }
    let (_, list) = ada.get("/api/v1/featured_tags").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // Suggestions: used, not featured.
    let (code, suggested) = ada.get("/api/v1/featured_tags/suggestions").await;
    assert_eq!(code, 200, "{suggested}");
    let names: Vec<&str> = suggested
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["terraform"]);

    // Others see them on the account; the instance says the limit.
    let (_, me) = ada.get("/api/v1/accounts/verify_credentials").await;
    let ada_id = me["id"].as_str().unwrap().to_string();
    let (code, theirs) = bob
        .get(&format!("/api/v1/accounts/{ada_id}/featured_tags"))
        .await;
    assert_eq!(code, 200);
    assert_eq!(theirs[0]["name"], "Rust");
    let (_, instance) = ada.get("/api/v2/instance").await;
    assert_eq!(
        instance["configuration"]["accounts"]["max_featured_tags"],
        10
    );

    // The limit: ten in all, the eleventh refused.
    for i in 1..10 {
        let (code, t) = ada
            .post(
                "/api/v1/featured_tags",
                json!({"name": format!("topic{i}")}),
            )
            .await;
        assert_eq!(code, 200, "{t}");
    }
    let (code, err) = ada
        .post("/api/v1/featured_tags", json!({"name": "eleventh"}))
        .await;
    assert_eq!(code, 422, "{err}");
    let (_, list) = ada.get("/api/v1/featured_tags").await;
    assert_eq!(list.as_array().unwrap().len(), 10);

    // Delete: gone, and a second delete finds nothing.
    let topic9 = list[9]["id"].as_str().unwrap().to_string();
    assert_eq!(list[9]["name"], "topic9");
    let (code, body) = delete(&ada, &format!("/api/v1/featured_tags/{topic9}")).await;
    assert_eq!((code.as_u16(), body), (200, json!({})));
    let (code, _) = delete(&ada, &format!("/api/v1/featured_tags/{topic9}")).await;
    assert_eq!(code, 404);
    let (code, _) = delete(&bob, &format!("/api/v1/featured_tags/{}", list[0]["id"])).await;
    assert_eq!(code, 404, "not bob's to delete");

    // Scopes: reading takes read:accounts, changing write:accounts.
    let password = create_user(&db, "reader");
    let reader = login(&node, "reader", &password, "read").await;
    let (code, _) = reader
        .post("/api/v1/featured_tags", json!({"name": "nope"}))
        .await;
    assert_eq!(code, 403);
    let (code, _) = reader.get("/api/v1/featured_tags").await;
    assert_eq!(code, 200);

    // discoverable: on by default (the node setting), on the account and in source; bob
    // turns it off.
    assert_eq!(me["discoverable"], true);
    assert_eq!(me["source"]["discoverable"], true);
    let bob_me = patch_profile(&bob, json!({"discoverable": false})).await;
    assert_eq!(bob_me["discoverable"], false);
    assert_eq!(bob_me["source"]["discoverable"], false);

    // The directory: discoverable accounts only; limit and order; a token is needed.
    let (code, dir) = cy.get("/api/v1/directory?local=true").await;
    assert_eq!(code, 200, "{dir}");
    let listed = accts(&dir);
    assert!(listed.contains(&"ada".to_string()), "{listed:?}");
    assert!(!listed.contains(&"bob".to_string()), "{listed:?}");
    let (_, newest) = cy.get("/api/v1/directory?order=new&limit=1").await;
    assert_eq!(accts(&newest), vec!["reader"]);
    let (_, active) = cy.get("/api/v1/directory?order=active&limit=1").await;
    assert_eq!(accts(&active), vec!["ada"], "ada posted last");
    let (_, second) = cy.get("/api/v1/directory?order=new&limit=1&offset=1").await;
    assert_eq!(accts(&second), vec!["terraform"]);
    let anonymous = common::client()
        .get(node.url("/api/v1/directory"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // Profile search: fields, featured tags, bio, ranked behind the exact handle.
    patch_profile(&ada, skills("terraform, kubernetes")).await;
    patch_profile(&bob, skills("terraform, kubernetes")).await;
    patch_profile(&cy, json!({"note": "Learning Terraform this quarter"})).await;
    assert_eq!(
        search(&cy, "terraform").await,
        vec!["terraform", "ada", "cy"]
    );
    assert_eq!(
        search(&cy, "kube").await,
        vec!["ada"],
        "word prefixes match"
    );
    assert_eq!(
        search(&cy, "Rust").await,
        vec!["ada"],
        "featured tags match"
    );
    assert_eq!(search(&cy, "topic3").await, vec!["ada"]);
    assert_eq!(
        search(&cy, "bob").await,
        vec!["bob"],
        "a handle finds anyone"
    );
    let (code, v1) = cy.get("/api/v1/accounts/search?q=kubernetes").await;
    assert_eq!(code, 200);
    assert_eq!(accts(&v1), vec!["ada"]);
    // Quotes and operators are words, not query syntax.
    assert!(search(&cy, "%22terraform%22%20OR%20*").await.is_empty());
    assert_eq!(search(&cy, "%22kubernetes%22").await, vec!["ada"]);

    // A profile change re-indexes at once; so does removing a featured tag.
    patch_profile(&ada, skills("ansible")).await;
    assert_eq!(search(&cy, "kubernetes").await, Vec::<String>::new());
    assert_eq!(search(&cy, "ansible").await, vec!["ada"]);
    let rust_id = rust["id"].as_str().unwrap();
    let (code, _) = delete(&ada, &format!("/api/v1/featured_tags/{rust_id}")).await;
    assert_eq!(code, 200);
    assert!(search(&cy, "rust").await.is_empty());
    // Turning discoverable off takes a profile out of profile search, not out of handle search.
    patch_profile(&cy, json!({"discoverable": false})).await;
    assert_eq!(search(&cy, "terraform").await, vec!["terraform"]);
    assert_eq!(search(&cy, "cy").await, vec!["cy"]);
    drop(terraform);
}

#[tokio::test]
async fn new_accounts_follow_the_node_default_for_discoverable() {
    let db = TestDb::new();
    let node = Node::start_on(
        &db,
        free_port(),
        &[
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_ACCOUNTS_DEFAULT_DISCOVERABLE", "false"),
        ],
    );
    // The first admin, made by the node at its first start under that setting.
    let password = node.admin_password.clone().expect("first admin");
    let admin = login(&node, "admin", &password, "read write").await;
    let (_, me) = admin.get("/api/v1/accounts/verify_credentials").await;
    assert_eq!(me["discoverable"], false);
    assert_eq!(me["source"]["discoverable"], false);
    let (_, dir) = admin.get("/api/v1/directory").await;
    assert_eq!(dir, json!([]));
    patch_profile(&admin, json!({"discoverable": true})).await;
    let (_, dir) = admin.get("/api/v1/directory").await;
    assert_eq!(accts(&dir), vec!["admin"]);
}

struct Site {
    db: TestDb,
    port: u16,
    node: Option<Node>,
}

impl Site {
    fn new() -> Site {
        Site {
            db: TestDb::new(),
            port: free_port(),
            node: None,
        }
    }
    fn domain(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    /// Started with `allowed` as partners: profiles cross only when looked up or followed
    /// (org peers get them pushed, which `tests/org.rs` shows).
    fn start(&mut self, allowed: &[String]) {
        let list = format!("[{}]", allowed.join(", "));
        let env = [
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
            ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
            ("FIKA_FEDERATION_PARTNER_DOMAINS", list.as_str()),
        ];
        self.node = Some(Node::start_on(&self.db, self.port, &env));
    }
    async fn user(&self, name: &str) -> Api {
        user(&self.db, self.node.as_ref().unwrap(), name).await
    }
}

/// The account `acct` as found by a handle search with resolve=true (fetching the actor).
async fn resolve(api: &Api, acct: &str) -> Value {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            acct.replace('@', "%40").replace(':', "%3A")
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(accts(&found["accounts"]), vec![acct.to_string()]);
    found["accounts"][0].clone()
}

#[tokio::test]
async fn profiles_are_found_by_skill_from_another_node() {
    let (mut a, mut b) = (Site::new(), Site::new());
    let domains = [a.domain(), b.domain()];
    a.start(&domains);
    b.start(&domains);
    let ada = a.user("ada").await;
    let bob = a.user("bob").await;
    let cy = b.user("cy").await;
    patch_profile(
        &ada,
        json!({"note": "Platform team", "fields_attributes": [
            {"name": "Skills", "value": "terraform, kubernetes"}]}),
    )
    .await;
    let (code, _) = ada
        .post("/api/v1/featured_tags", json!({"name": "Observability"}))
        .await;
    assert_eq!(code, 200);
    patch_profile(&bob, skills("terraform, kubernetes")).await;
    patch_profile(&bob, json!({"discoverable": false})).await;
    let ada_acct = format!("ada@{}", a.domain());
    let bob_acct = format!("bob@{}", a.domain());

    // B knows nobody of A yet.
    assert!(search(&cy, "terraform").await.is_empty());
    let (_, dir) = cy.get("/api/v1/directory?local=false").await;
    assert_eq!(
        accts(&dir),
        vec!["cy", "admin"],
        "the newest first among the idle"
    );

    // Once B has fetched the actors, the discoverable one is found by skill, bio and
    // featured tag, with what her profile says; the other only by handle.
    let ada_on_b = resolve(&cy, &ada_acct).await;
    assert_eq!(ada_on_b["discoverable"], true);
    assert_eq!(ada_on_b["fields"][0]["name"], "Skills");
    assert_eq!(ada_on_b["fields"][0]["value"], "terraform, kubernetes");
    let bob_on_b = resolve(&cy, &bob_acct).await;
    assert_eq!(bob_on_b["discoverable"], false);
    assert_eq!(search(&cy, "terraform").await, vec![ada_acct.clone()]);
    assert_eq!(search(&cy, "kubernetes").await, vec![ada_acct.clone()]);
    assert_eq!(search(&cy, "platform").await, vec![ada_acct.clone()]);
    assert_eq!(search(&cy, "observability").await, vec![ada_acct.clone()]);
    assert_eq!(search(&cy, "bob").await, vec![bob_acct.clone()]);
    let (code, v1) = cy.get("/api/v1/accounts/search?q=terraform").await;
    assert_eq!(code, 200);
    assert_eq!(accts(&v1), vec![ada_acct.clone()]);
    let ada_id = ada_on_b["id"].as_str().unwrap();
    let (_, tags) = cy
        .get(&format!("/api/v1/accounts/{ada_id}/featured_tags"))
        .await;
    assert_eq!(tags[0]["name"], "Observability", "{tags}");

    // The directory of everyone B knows lists her; B's own does not.
    let (_, all) = cy.get("/api/v1/directory?local=false").await;
    let all = accts(&all);
    assert!(all.contains(&ada_acct), "{all:?}");
    assert!(!all.contains(&bob_acct), "{all:?}");
    let (_, local) = cy.get("/api/v1/directory?local=true").await;
    assert_eq!(accts(&local), vec!["cy", "admin"]);

    // A change on A reaches B as an Update of the actor (cy follows ada), and B's index
    // follows it.
    let (code, rel) = cy
        .post(&format!("/api/v1/accounts/{ada_id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    eventually("the follow to be accepted", || async {
        let (_, rels) = cy
            .get(&format!("/api/v1/accounts/relationships?id[]={ada_id}"))
            .await;
        (rels[0]["following"] == true).then_some(())
    })
    .await;
    patch_profile(&ada, skills("ansible")).await;
    eventually("B to find ada by her new skill", || async {
        (search(&cy, "ansible").await == vec![ada_acct.clone()]).then_some(())
    })
    .await;
    assert!(search(&cy, "terraform").await.is_empty());
}
