//! The client API's rules, driven over HTTP against a real node: OAuth, visibility, errors.
//! (The same API driven by real client libraries lives in tests/clients.)

mod common;

use common::{client, create_user, login, register_app, Node, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn authorization_code_flow_with_pkce() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let password = node.admin_password.clone().unwrap();
    let r: Value = client()
        .post(node.url("/api/v1/apps"))
        .json(&json!({"client_name": "app", "redirect_uris": ["fika-test://cb"], "scopes": "read write"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = r["client_id"].as_str().unwrap();
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(openssl::sha::sha256(verifier.as_bytes()))
    };
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", "fika-test://cb"),
        ("scope", "read"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = client()
        .get(node.url("/oauth/authorize/"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"password\""));

    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.extend([
        ("username", "admin"),
        ("password", "wrong-password"),
        ("decision", "approve"),
    ]);
    let r = client()
        .post(node.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a wrong password shows the form again");

    form.retain(|(k, _)| *k != "password");
    form.push(("password", &password));
    let r = client()
        .post(node.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&location).unwrap();
    assert_eq!(url.scheme(), "fika-test");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    let code = &code;
    let exchange = |verifier: &'static str| {
        let code = code.clone();
        let client_id = client_id.to_string();
        let node = &node;
        async move {
            client()
                .post(node.url("/oauth/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", &client_id),
                    ("redirect_uri", "fika-test://cb"),
                    ("code_verifier", verifier),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let bad = exchange("not-the-verifier").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // The failed attempt used the code up: a code is good for one exchange only.
    let again = exchange("a-verifier-that-is-long-enough-for-pkce-0123456789").await;
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn tokens_scopes_and_revocation() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let password = node.admin_password.clone().unwrap();
    let reader = login(&node, "admin", &password, "read").await;
    let (status, _) = reader
        .post("/api/v1/statuses", json!({"status": "hi"}))
        .await;
    assert_eq!(status, 403);
    let (status, me) = reader.get("/api/v1/accounts/verify_credentials").await;
    assert_eq!(status, 200);
    assert_eq!(me["statuses_count"], 0, "the refused post wrote nothing");
    // Markers are set under the write scope alone and answered with what was written.
    let writer = login(&node, "admin", &password, "write:statuses").await;
    let (status, markers) = writer
        .post("/api/v1/markers", json!({"home": {"last_read_id": "42"}}))
        .await;
    assert_eq!(status, 200, "{markers}");
    assert_eq!(markers["home"]["last_read_id"], "42");
    let (status, _) = writer.get("/api/v1/markers?timeline[]=home").await;
    assert_eq!(status, 403, "reading them needs a read scope");
    let (status, read) = reader.get("/api/v1/markers?timeline[]=home").await;
    assert_eq!(status, 200);
    assert_eq!(read["home"]["last_read_id"], "42");

    let r = client()
        .get(node.url("/api/v1/timelines/home"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client()
        .get(node.url("/api/v1/timelines/home"))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "The access token is invalid"
    );

    // Scope beyond the app's registration is refused.
    let (id, secret) = register_app(&node, "read").await;
    let r = client()
        .post(node.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .post(node.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    let app_token: Value = r.json().await.unwrap();
    let app_token = app_token["access_token"].as_str().unwrap();
    let r = client()
        .get(node.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(node.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "an app token has no user");

    let r = client()
        .post(node.url("/oauth/revoke"))
        .form(&[
            ("client_id", id.as_str()),
            ("client_secret", &secret),
            ("token", app_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(node.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Rate-limit headers on every API answer.
    assert!(r.headers().contains_key("x-ratelimit-remaining"));

    // The password grant is off unless configured.
    let plain_db = TestDb::new();
    let plain = Node::start(&plain_db);
    let (id, secret) = register_app(&plain, "read").await;
    let r = client()
        .post(plain.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("username", "admin"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let meta: Value = client()
        .get(plain.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!meta["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
    assert!(meta["code_challenge_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("S256")));
}

/// Followers-only and direct statuses reach exactly their audience, everywhere.
#[tokio::test]
async fn visibility_is_enforced_everywhere() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let pw = |n: &str| create_user(&db, n);
    let (ada_pw, bob_pw, eve_pw) = (pw("ada"), pw("bob"), pw("eve"));
    let ada = login(&node, "ada", &ada_pw, "read write follow").await;
    let bob = login(&node, "bob", &bob_pw, "read write follow").await;
    let eve = login(&node, "eve", &eve_pw, "read write follow").await;
    let (_, ada_account) = ada.get("/api/v1/accounts/verify_credentials").await;
    let ada_id = ada_account["id"].as_str().unwrap().to_string();
    let (status, rel) = bob
        .post(&format!("/api/v1/accounts/{ada_id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["following"], true);

    let (_, private) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "for followers #team", "visibility": "private"}),
        )
        .await;
    let (_, direct) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "@eve just you", "visibility": "direct"}),
        )
        .await;
    let (_, public) = ada
        .post("/api/v1/statuses", json!({"status": "for all #team"}))
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();

    let ids_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let bob_home = common::home_once_it_has(&bob, &[&id(&public), &id(&private)]).await;
    assert_eq!(ids_of(&bob_home), vec![id(&public), id(&private)]);
    let eve_home = common::home_once_it_has(&eve, &[&id(&direct)]).await;
    assert_eq!(
        ids_of(&eve_home),
        vec![id(&direct)],
        "a direct status reaches the mentioned"
    );
    for (who, status, visible) in [
        (&bob, &private, true),
        (&eve, &private, false),
        (&bob, &direct, false),
        (&eve, &direct, true),
    ] {
        let (code, _) = who.get(&format!("/api/v1/statuses/{}", id(status))).await;
        assert_eq!(code == 200, visible, "{}", status["visibility"]);
        if !visible {
            assert_eq!(code, 404, "hidden statuses are not found, not forbidden");
        }
    }
    let (_, public_tl) = eve.get("/api/v1/timelines/public?local=true").await;
    assert_eq!(ids_of(&public_tl), vec![id(&public)]);
    let (_, tag_tl) = eve.get("/api/v1/timelines/tag/team").await;
    assert_eq!(ids_of(&tag_tl), vec![id(&public)]);
    let (_, profile) = eve
        .get(&format!("/api/v1/accounts/{ada_id}/statuses"))
        .await;
    assert_eq!(ids_of(&profile), vec![id(&public)]);
    let (_, profile) = bob
        .get(&format!("/api/v1/accounts/{ada_id}/statuses"))
        .await;
    assert_eq!(ids_of(&profile), vec![id(&public), id(&private)]);
    let (code, _) = eve
        .post(
            &format!("/api/v1/statuses/{}/favourite", id(&private)),
            json!({}),
        )
        .await;
    assert_eq!(code, 404);
    let (code, _) = bob
        .post(
            &format!("/api/v1/statuses/{}/reblog", id(&private)),
            json!({}),
        )
        .await;
    assert_eq!(code, 422, "a followers-only status cannot be reblogged");
    let (_, found) = eve.get("/api/v2/search?q=followers&type=statuses").await;
    assert_eq!(found["statuses"].as_array().unwrap().len(), 0);

    // Unfollowing empties the home feed of ada's statuses.
    bob.post(&format!("/api/v1/accounts/{ada_id}/unfollow"), json!({}))
        .await;
    let (_, bob_home) = bob.get("/api/v1/timelines/home").await;
    assert!(ids_of(&bob_home).is_empty());
    let (code, _) = bob.get(&format!("/api/v1/statuses/{}", id(&private))).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let password = node.admin_password.clone().unwrap();
    let api = login(&node, "admin", &password, "read write").await;
    let statuses_count = || async {
        api.get("/api/v1/accounts/verify_credentials").await.1["statuses_count"].clone()
    };

    let (code, body) = api.post("/api/v1/statuses", json!({"status": "   "})).await;
    assert_eq!(code, 422);
    assert!(body["error"].as_str().unwrap().contains("can't be blank"));
    let (code, _) = api
        .post(
            "/api/v1/statuses",
            json!({"status": "x", "visibility": "everyone"}),
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = api
        .post(
            "/api/v1/statuses",
            json!({"status": "x", "in_reply_to_id": "123"}),
        )
        .await;
    assert_eq!(code, 404);
    let (code, _) = api
        .post(
            "/api/v1/statuses",
            json!({"status": "x", "media_ids": ["42"]}),
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = api
        .post("/api/v1/statuses", json!({"status": "x".repeat(5001)}))
        .await;
    assert_eq!(code, 422);
    let r = client()
        .post(api.url("/api/v1/statuses"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{\"status\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = client()
        .post(api.url("/api/v1/statuses"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    let (code, body) = api.get("/api/v1/statuses/999999").await;
    assert_eq!(
        (code, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Record not found"))
    );
    let (code, _) = api.get("/api/v1/statuses/not-a-number").await;
    assert_eq!(code, 404);
    assert_eq!(statuses_count().await, 0);

    // The same Idempotency-Key returns the same status instead of posting twice.
    let post = || async {
        client()
            .post(api.url("/api/v1/statuses"))
            .bearer_auth(&api.token)
            .header("idempotency-key", "abc-123")
            .form(&[("status", "once")])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let (a, b) = (post().await, post().await);
    assert_eq!(a["id"], b["id"]);
    assert_eq!(statuses_count().await, 1);
}

#[tokio::test]
async fn pagination_links_walk_every_page() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let password = node.admin_password.clone().unwrap();
    let api = login(&node, "admin", &password, "read write").await;
    for i in 0..25 {
        let (code, _) = api
            .post("/api/v1/statuses", json!({"status": format!("post {i}")}))
            .await;
        assert_eq!(code, 200);
    }
    let mut url = api.url("/api/v1/timelines/home?limit=10");
    let mut seen: Vec<u64> = Vec::new();
    let mut first_page_link = None;
    loop {
        let r = client()
            .get(&url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        let link = r
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let page: Vec<Value> = r.json().await.unwrap();
        if page.is_empty() {
            assert!(link.is_none(), "no Link header on an empty page");
            break;
        }
        seen.extend(
            page.iter()
                .map(|s| s["id"].as_str().unwrap().parse::<u64>().unwrap()),
        );
        let link = link.expect("Link header");
        assert!(link.starts_with('<'), "next comes first: {link}");
        first_page_link.get_or_insert(link.clone());
        url = link[1..link.find('>').unwrap()].to_string();
        assert!(url.contains("max_id=") && url.contains("limit=10"), "{url}");
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
    // min_id pages forward from a cursor, still newest first.
    let oldest = seen[24];
    let (_, newer) = api
        .get(&format!("/api/v1/timelines/home?min_id={oldest}&limit=5"))
        .await;
    let newer: Vec<u64> = newer
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(newer, seen[19..24].to_vec());

    // Bookmarks and favourites list in the order they were made, newest first.
    api.post(&format!("/api/v1/statuses/{}/bookmark", seen[3]), json!({}))
        .await;
    api.post(
        &format!("/api/v1/statuses/{}/bookmark", seen[10]),
        json!({}),
    )
    .await;
    api.post(
        &format!("/api/v1/statuses/{}/favourite", seen[7]),
        json!({}),
    )
    .await;
    let ids = |v: Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    assert_eq!(
        ids(api.get("/api/v1/bookmarks").await.1),
        vec![seen[10], seen[3]]
    );
    assert_eq!(ids(api.get("/api/v1/favourites").await.1), vec![seen[7]]);
}

/// Open streams end when the node stops, so a SIGTERM is not held up by a connected app.
#[tokio::test]
async fn open_streams_do_not_block_a_graceful_stop() {
    let db = TestDb::new();
    let node = common::start_with_password_grant(&db);
    let password = node.admin_password.clone().unwrap();
    let api = login(&node, "admin", &password, "read").await;
    let mut streams = Vec::new();
    for path in ["/api/v1/streaming/user", "/api/v1/streaming/public"] {
        let r = client()
            .get(node.url(path))
            .bearer_auth(&api.token)
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        streams.push(r);
    }
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || node.stop())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "stopped in {:?}",
        started.elapsed()
    );
    for mut s in streams {
        // The stream ends cleanly (or the connection closes), it does not hang.
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Ok(Some(_)) = s.chunk().await {}
        })
        .await;
        assert!(end.is_ok());
    }
}
