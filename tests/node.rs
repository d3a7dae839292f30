//! A real node on a loopback port: discovery documents, the actor, health, errors, restarts.

mod common;

use common::{client, free_port, Node, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

const AS2: &str = "application/activity+json";
const LD_AS2: &str = r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;

async fn get_json(url: &str) -> (StatusCode, String, Value) {
    let r = client().get(url).send().await.expect("request");
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.text().await.unwrap();
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url} answered {status} with non-JSON {body:?}: {e}"));
    (status, ct, json)
}

fn webfinger_url(node: &Node, resource: &str) -> String {
    let mut url = reqwest::Url::parse(&node.url("/.well-known/webfinger")).unwrap();
    url.query_pairs_mut().append_pair("resource", resource);
    url.to_string()
}

#[tokio::test]
async fn first_start_creates_an_admin_and_webfinger_finds_it() {
    let db = TestDb::new();
    let node = Node::start(&db);
    let password = node
        .admin_password
        .clone()
        .expect("first start prints a password");
    assert!(password.len() >= 16, "{password}");

    let (status, ct, jrd) = get_json(&webfinger_url(
        &node,
        &format!("acct:admin@{}", node.domain),
    ))
    .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/jrd+json"), "{ct}");
    assert_eq!(jrd["subject"], format!("acct:admin@{}", node.domain));
    let actor = node.url("/users/admin");
    assert!(jrd["aliases"]
        .as_array()
        .unwrap()
        .contains(&Value::from(actor.clone())));
    let links = jrd["links"].as_array().unwrap();
    let me = links.iter().find(|l| l["rel"] == "self").expect("rel=self");
    assert_eq!(me["type"], AS2);
    assert_eq!(me["href"], actor);
    let page = links
        .iter()
        .find(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
        .expect("profile page link");
    assert_eq!(page["href"], node.url("/@admin"));

    // The actor URL is a resource too, and names are case-insensitive.
    let (status, _, by_url) = get_json(&webfinger_url(&node, &actor)).await;
    assert_eq!(status, 200);
    assert_eq!(by_url["subject"], jrd["subject"]);
    let (status, _, upper) = get_json(&webfinger_url(
        &node,
        &format!("acct:ADMIN@{}", node.domain),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(upper["subject"], jrd["subject"]);
}

#[tokio::test]
async fn webfinger_tells_unknown_from_malformed() {
    let db = TestDb::new();
    let node = Node::start(&db);
    for resource in [
        format!("acct:nobody@{}", node.domain),
        "acct:admin@elsewhere.example".to_string(),
        "https://elsewhere.example/users/admin".to_string(),
    ] {
        let (status, _, body) = get_json(&webfinger_url(&node, &resource)).await;
        assert_eq!(status, 404, "{resource}");
        assert!(body["error"].is_string(), "{body}");
    }
    for resource in ["acct:admin", "", "mailto:admin", "acct:@x"] {
        let (status, _, body) = get_json(&webfinger_url(&node, resource)).await;
        assert_eq!(status, 400, "{resource:?}");
        assert!(body["error"].is_string(), "{body}");
    }
    let (status, _, body) = get_json(&node.url("/.well-known/webfinger")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("resource"),
        "{body}"
    );

    let r = client()
        .get(node.url("/.well-known/host-meta"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xrd+xml"));
    let xrd = r.text().await.unwrap();
    assert!(
        xrd.contains(&format!(
            "template=\"{}/.well-known/webfinger?resource={{uri}}\"",
            node.base
        )),
        "{xrd}"
    );
}

#[tokio::test]
async fn nodeinfo_is_discoverable_in_both_versions() {
    let db = TestDb::new();
    let node = Node::start(&db);
    let (status, _, links) = get_json(&node.url("/.well-known/nodeinfo")).await;
    assert_eq!(status, 200);
    let links = links["links"].as_array().unwrap();
    for version in ["2.0", "2.1"] {
        let rel = format!("http://nodeinfo.diaspora.software/ns/schema/{version}");
        let href = links
            .iter()
            .find(|l| l["rel"] == rel.as_str())
            .unwrap_or_else(|| panic!("no link for {version}"))["href"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, ct, doc) = get_json(&href).await;
        assert_eq!(status, 200);
        assert!(ct.contains(&format!("schema/{version}")), "{ct}");
        assert_eq!(doc["version"], version);
        assert_eq!(doc["software"]["name"], "fika");
        assert_eq!(doc["protocols"][0], "activitypub");
        assert_eq!(doc["usage"]["users"]["total"], 1);
        assert_eq!(doc["openRegistrations"], false);
        assert_eq!(doc["metadata"]["upstream"]["name"], "mastodon");
    }
    let (status, _, _) = get_json(&node.url("/nodeinfo/9.9")).await;
    assert_eq!(status, 404);
}

/// Two nodes that allow each other: signed requests in these tests are made exactly as the
/// second node's own actor would make them.
fn pair() -> (TestDb, Node, TestDb, Node) {
    let (db, peer_db) = (TestDb::new(), TestDb::new());
    let (port, peer_port) = (free_port(), free_port());
    let allow = format!("[127.0.0.1:{port}, 127.0.0.1:{peer_port}]");
    let env = [
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", allow.as_str()),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
    ];
    let node = Node::start_on(&db, port, &env);
    let peer = Node::start_on(&peer_db, peer_port, &env);
    (db, node, peer_db, peer)
}

#[tokio::test]
async fn actor_document_carries_a_parsable_key() {
    let (_db, node, peer_db, peer) = pair();
    let actor_url = node.url("/users/admin");
    // Unsigned, the actor document is the key and nothing else (authorized fetch is always on).
    for accept in [AS2, LD_AS2] {
        let r = client()
            .get(&actor_url)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(AS2));
        let actor: Value = r.json().await.unwrap();
        assert_eq!(actor["id"], actor_url);
        assert!(actor.get("inbox").is_none(), "nothing but the key: {actor}");
        assert!(actor.get("preferredUsername").is_none());
        let key = &actor["publicKey"];
        assert_eq!(key["id"], format!("{actor_url}#main-key"));
        assert_eq!(key["owner"], actor_url);
        let pem = key["publicKeyPem"].as_str().unwrap();
        let parsed =
            openssl::pkey::PKey::public_key_from_pem(pem.as_bytes()).expect("publicKeyPem parses");
        assert_eq!(parsed.bits(), 2048);
    }
    // Signed by an allowed peer's node, the whole document.
    let key = common::node_private_key(&peer_db).await;
    let r = common::signed_get(&actor_url, &key, &peer.url("/actor#main-key")).await;
    let actor: Value = r.json().await.unwrap();
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["preferredUsername"], "admin");
    assert_eq!(actor["inbox"], format!("{actor_url}/inbox"));
    assert_eq!(actor["outbox"], format!("{actor_url}/outbox"));
    assert_eq!(actor["followers"], format!("{actor_url}/followers"));
    assert_eq!(actor["following"], format!("{actor_url}/following"));
    assert_eq!(actor["endpoints"]["sharedInbox"], node.url("/inbox"));
    assert_eq!(actor["url"], node.url("/@admin"));
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    assert_eq!(actor["discoverable"], true);
    assert!(actor["published"].as_str().unwrap().ends_with('Z'));
    assert!(actor.get("icon").is_none(), "no avatar yet");
    assert_eq!(actor["publicKey"]["owner"], actor_url);

    // A browser is sent to the profile page, which shows nothing internal.
    let r = client()
        .get(&actor_url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], node.url("/@admin").as_str());
    let r = client().get(node.url("/@admin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(node.url("/users/nobody"))
        .header("accept", AS2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Statuses, outbox and followers answer unsigned requests with 401 and no content.
#[tokio::test]
async fn unsigned_fetches_of_content_are_refused() {
    let (_db, node, peer_db, peer) = pair();
    for path in [
        "/users/admin/outbox",
        "/users/admin/followers",
        "/users/admin/following",
        "/users/admin/outbox?page=1",
        "/users/admin/statuses/1",
    ] {
        let r = client()
            .get(node.url(path))
            .header("accept", AS2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["error"],
            "{path}: {body}"
        );
    }
    // A forged signature is refused the same way.
    let r = client()
        .get(node.url("/users/admin/outbox"))
        .header("accept", AS2)
        .header("date", httpdate::fmt_http_date(std::time::SystemTime::now()))
        .header("signature", format!("keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"AAAA\"", peer.url("/actor#main-key")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let key = common::node_private_key(&peer_db).await;
    let r = common::signed_get(
        &node.url("/users/admin/outbox"),
        &key,
        &peer.url("/actor#main-key"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let outbox: Value = r.json().await.unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
}

#[tokio::test]
async fn health_and_readiness() {
    let db = TestDb::new();
    let node = Node::start(&db);
    let (status, _, body) = get_json(&node.url("/health")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, _, body) = get_json(&node.url("/ready")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn errors_are_mastodon_json_and_never_500() {
    let db = TestDb::new();
    let node = Node::start(&db);
    let c = client();

    let (status, _, body) = get_json(&node.url("/no/such/route")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Record not found");

    let r = c
        .post(node.url("/.well-known/webfinger"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].is_string());

    // Declared over the limit: refused from the headers, before the body is read. Raw TCP so
    // that the client does not race the early answer while still writing a body.
    let raw = raw_http(
        node.port,
        &format!(
            "POST /users/admin HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{{}}",
            node.domain,
            64 * 1024 * 1024
        ),
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(
        raw.contains("\"error\":\"Request body is too large\""),
        "{raw}"
    );

    // Odd query strings and paths get a 4xx, not a crash.
    for path in [
        "/.well-known/webfinger?resource=%ff%fe",
        "/.well-known/webfinger?resource=acct:%00@x",
        "/users/%00",
        "/@%ff",
        "/nodeinfo/..%2f..%2fetc",
    ] {
        let r = c
            .get(node.url(path))
            .header("accept", AS2)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    // Trailing slashes are accepted like Mastodon does.
    let (status, _, _) = get_json(&node.url("/health/")).await;
    assert_eq!(status, 200);
    // Web clients on other origins may call.
    let r = c
        .get(node.url("/.well-known/nodeinfo"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // A preflight for an authenticated call is answered with the headers it names, not `*`
    // (which the Fetch standard says does not cover Authorization).
    let r = c
        .request(reqwest::Method::OPTIONS, node.url("/api/v1/timelines/home"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("idempotency-key"),
        "{allowed}"
    );
    assert_ne!(allowed, "*");
}

#[tokio::test]
async fn data_and_keys_survive_a_restart() {
    let db = TestDb::new();
    let port = free_port();
    let node = Node::start_on(&db, port, &[]);
    assert!(node.admin_password.is_some());
    let created = db.cli(&["admin", "create-user", "Grace_H", "--role", "moderator"]);
    assert!(created.status.success(), "{}", common::stderr(&created));
    let key_before = actor_key(&node, "grace_h").await;

    let status = node.stop();
    assert!(status.success(), "graceful stop exits 0, got {status}");

    let node = Node::start_on(&db, port, &[]);
    assert!(node.admin_password.is_none(), "no second admin on restart");
    assert_eq!(actor_key(&node, "grace_h").await, key_before);
    let (status, _, jrd) = get_json(&webfinger_url(
        &node,
        &format!("acct:grace_h@{}", node.domain),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(jrd["subject"], format!("acct:Grace_H@{}", node.domain));
    let (_, _, info) = get_json(&node.url("/nodeinfo/2.0")).await;
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert!(node.stop().success());
}

async fn actor_key(node: &Node, name: &str) -> String {
    let actor: Value = client()
        .get(node.url(&format!("/users/{name}")))
        .header("accept", AS2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn raw_http(port: u16, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

/// Parses Prometheus text exposition: (metric name, labels, value) per sample line.
fn parse_prometheus(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {l}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {l}"));
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (
                    n,
                    rest.strip_suffix('}')
                        .unwrap_or_else(|| panic!("bad labels: {l}")),
                ),
                None => (series, ""),
            };
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad name: {l}"
            );
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

#[tokio::test]
async fn metrics_for_monitoring() {
    let db = TestDb::new();
    let node = Node::start_on(&db, free_port(), &[("FIKA_OAUTH_PASSWORD_GRANT", "true")]);
    for _ in 0..3 {
        client().get(node.url("/health")).send().await.unwrap();
    }
    let r = client().get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200, "loopback may read metrics");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let samples = parse_prometheus(&r.text().await.unwrap());
    let health = samples
        .iter()
        .find(|(n, l, _)| {
            n == "fika_http_requests_total"
                && l.contains("route=\"/health\"")
                && l.contains("status=\"2xx\"")
        })
        .expect("request counter for /health");
    assert_eq!(health.2, 3.0);
    assert!(samples
        .iter()
        .any(|(n, l, v)| n == "fika_http_request_duration_seconds_count"
            && l.contains("/health")
            && *v == 3.0));
    assert!(samples
        .iter()
        .any(|(n, _, v)| n == "fika_local_accounts" && *v == 1.0));
    assert!(samples.iter().any(|(n, _, _)| n == "fika_active_users"));
    // Behind a reverse proxy on the same host, the client's address decides, not the proxy's.
    let r = client()
        .get(node.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "a forwarded outside client is not a local reader"
    );

    // From elsewhere, only an admin's token will do.
    let closed = TestDb::new();
    let node = Node::start_on(
        &closed,
        free_port(),
        &[
            ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
            ("FIKA_METRICS_ALLOWED_ADDRESSES", "[]"),
        ],
    );
    let r = client().get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let admin = common::login(
        &node,
        "admin",
        node.admin_password.as_deref().unwrap(),
        "read admin:read",
    )
    .await;
    let r = client()
        .get(node.url("/metrics"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let staff_pw = common::create_user(&closed, "staff");
    let staff = common::login(&node, "staff", &staff_pw, "read admin:read").await;
    let r = client()
        .get(node.url("/metrics"))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let db = TestDb::new();
    if !db.url.starts_with("sqlite") {
        return; // PostgreSQL takes several processes (issue 16).
    }
    let _first = Node::start(&db);
    let err_path = db.data_dir().join("second-serve.log");
    let mut second = common::base_command()
        .arg("serve")
        .envs(db.env())
        .env("FIKA_SERVER_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run a second fika serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            panic!("a second fika serve on the same SQLite file kept running");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(!status.success(), "the second server should not start");
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        stderr.contains("another fika serve is already running"),
        "{stderr}"
    );
    // The CLI still works beside the running server.
    let cli = common::base_command()
        .args(["admin", "create-user", "beside", "--password-stdin"])
        .envs(db.env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"beside-a-running-server\n")?;
            c.wait()
        })
        .expect("run the CLI");
    assert!(cli.success());
}
