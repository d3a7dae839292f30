//! Insights across real nodes: A, B and C are each other's `org` peers, P is a `partner` of all
//! three (and counts them as its org peers, so it pushes its figures to them). Seeded
//! interactions give an exact node × node matrix on every org node, small cells are left out,
//! the partner gets nothing and is heard from on nothing, and every aggregate that crossed the
//! wire carries counts only.

mod common;

use std::collections::BTreeSet;

use common::{
    create_user, db_scalar, eventually, free_port, login, node_private_key, signed_post, Api, Node,
    TestDb,
};
use serde_json::{json, Value};
use sqlx::Connection;

struct Site {
    db: TestDb,
    port: u16,
    node: Node,
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

fn start(port: u16, org: &[&String], partners: &[&String]) -> Site {
    let db = TestDb::new();
    let (org, partners) = (list(org), list(partners));
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", org.as_str()),
        ("FIKA_FEDERATION_PARTNER_DOMAINS", partners.as_str()),
        ("FIKA_INSIGHTS_INTERVAL_SECONDS", "1"),
    ];
    let node = Node::start_on(&db, port, &env);
    Site { db, port, node }
}

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(&site.node, name, &password, "read write follow").await
}

async fn admin(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    let out = site.db.cli(&["admin", "set-role", name, "admin"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    login(&site.node, name, &password, "read write admin:read").await
}

async fn post(api: &Api, body: Value) -> Value {
    let (code, status) = api.post("/api/v1/statuses", body).await;
    assert_eq!(code, 200, "{status}");
    status
}

fn urlencode(s: &str) -> String {
    s.replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

async fn resolve_account(api: &Api, acct: &str) -> String {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            urlencode(acct)
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    found["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{acct} not found: {found}"))
        .to_string()
}

async fn resolve_status(api: &Api, uri: &str) -> String {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=statuses&resolve=true&q={}",
            urlencode(uri)
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    found["statuses"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri} not found: {found}"))
        .to_string()
}

async fn follow(api: &Api, id: &str) {
    let (code, rel) = api
        .post(&format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    eventually("the follow accepted", || async {
        let (_, rel) = api
            .get(&format!("/api/v1/accounts/relationships?id[]={id}"))
            .await;
        (rel[0]["following"] == true).then_some(())
    })
    .await;
}

async fn favourite(api: &Api, id: &str) {
    let (code, st) = api
        .post(&format!("/api/v1/statuses/{id}/favourite"), json!({}))
        .await;
    assert_eq!(code, 200, "{st}");
}

/// Every text value of a query's first column, on either backend.
async fn texts(db: &TestDb, sql: &str) -> Vec<String> {
    if db.url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }
}

async fn insights(api: &Api) -> Value {
    let (code, v) = api.get("/api/v1/admin/insights").await;
    assert_eq!(code, 200, "{v}");
    v
}

/// The matrix as (row node, column node) → cell, for the nodes given in this order.
fn cells(v: &Value, order: &[&String]) -> Vec<Vec<Option<i64>>> {
    let nodes: Vec<&str> = v["matrix"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let at = |d: &str| nodes.iter().position(|n| *n == d).expect("node in matrix");
    order
        .iter()
        .map(|r| {
            order
                .iter()
                .map(|c| v["matrix"]["cells"][at(r)][at(c)].as_i64())
                .collect()
        })
        .collect()
}

/// Walks a document, collecting every key and every string value.
fn walk(v: &Value, keys: &mut BTreeSet<String>, strings: &mut Vec<String>, numbers: &mut Vec<i64>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                keys.insert(k.clone());
                walk(v, keys, strings, numbers);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| walk(v, keys, strings, numbers)),
        Value::String(s) => strings.push(s.clone()),
        Value::Number(n) => numbers.push(n.as_i64().unwrap_or(i64::MAX)),
        _ => {}
    }
}

#[tokio::test]
async fn org_nodes_share_the_same_matrix_with_small_cells_left_out_and_the_partner_gets_nothing() {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let [a, b, c, p] = [0, 1, 2, 3].map(|i| domain(ports[i]));
    let na = start(ports[0], &[&b, &c], &[&p]);
    let nb = start(ports[1], &[&a, &c], &[&p]);
    let nc = start(ports[2], &[&a, &b], &[&p]);
    let np = start(ports[3], &[&a, &b, &c], &[]);

    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    for i in 0..6 {
        on_a.push(user(&na, &format!("ana{i}")).await);
        on_b.push(user(&nb, &format!("bo{i}")).await);
    }
    let cy = user(&nc, "cy").await;
    let pia = user(&np, "pia").await;
    let boss_a = admin(&na, "boss").await;
    let boss_b = admin(&nb, "boss").await;
    let boss_c = admin(&nc, "boss").await;
    let boss_p = admin(&np, "boss").await;

    // A → B: six follows of bo0.
    for api in &on_a {
        let id = resolve_account(api, &format!("bo0@{b}")).await;
        follow(api, &id).await;
    }
    // A → A: five favourites of ana0's post.
    let roadmap = post(
        &on_a[0],
        json!({"status": "the #roadmap for next year", "visibility": "public"}),
    )
    .await;
    for api in &on_a[1..] {
        favourite(api, roadmap["id"].as_str().unwrap()).await;
    }
    // B → A: five favourites and a reply.
    let uri = roadmap["uri"].as_str().unwrap();
    for api in &on_b[1..] {
        let id = resolve_status(api, uri).await;
        favourite(api, &id).await;
    }
    let on_b0 = resolve_status(&on_b[0], uri).await;
    post(
        &on_b[0],
        json!({"status": "sounds good to us", "in_reply_to_id": on_b0}),
    )
    .await;
    // A → C: one favourite (below the threshold).
    let cys = post(
        &cy,
        json!({"status": "greetings from C", "visibility": "public"}),
    )
    .await;
    let on_a0 = resolve_status(&on_a[0], cys["uri"].as_str().unwrap()).await;
    favourite(&on_a[0], &on_a0).await;
    // A → P (a partner): five follows, which A sees but tells no one.
    for api in &on_a[..5] {
        let id = resolve_account(api, &format!("pia@{p}")).await;
        follow(api, &id).await;
    }
    // Hashtags: five people on A and five on B use #roadmap; one on C does.
    for api in &on_a[1..5] {
        post(
            api,
            json!({"status": "my part of the #roadmap", "visibility": "public"}),
        )
        .await;
    }
    for api in &on_b[..5] {
        post(
            api,
            json!({"status": "our #roadmap", "visibility": "public"}),
        )
        .await;
    }
    post(
        &cy,
        json!({"status": "a #roadmap from C", "visibility": "public"}),
    )
    .await;
    post(
        &pia,
        json!({"status": "partner #roadmap", "visibility": "public"}),
    )
    .await;
    let _ = pia.get("/api/v1/timelines/home").await;

    // The same matrix on every org node, once each has the others' aggregates.
    let order = [&a, &b, &c];
    let expected = vec![
        vec![Some(5), Some(6), None],
        vec![Some(6), None, None],
        vec![None, None, None],
    ];
    for boss in [&boss_a, &boss_b, &boss_c] {
        eventually("the organisation's matrix", || async {
            let v = insights(boss).await;
            let reported = v["matrix"]["reported"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r == true);
            (reported && cells(&v, &order) == expected).then_some(())
        })
        .await;
    }
    // C reported too, but all its counts are small; P is not in the matrix.
    let v = insights(&boss_b).await;
    let nodes: Vec<&str> = v["matrix"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(nodes.len(), 3, "{v}");
    assert!(!nodes.contains(&p.as_str()));
    // #roadmap rises on two nodes; C's single use is below the threshold.
    let tag = eventually("#roadmap from A and B on B", || async {
        let v = insights(&boss_b).await;
        let tag = v["hashtags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "roadmap")
            .cloned()?;
        (tag["uses"] == 10).then_some(tag)
    })
    .await;
    assert_eq!(tag["accounts"], 10, "{tag}");
    let mut tag_nodes: Vec<&str> = tag["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    tag_nodes.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(tag_nodes, want);

    // A's own figures are exact (its own), the partner included, both directions.
    // (The admin's own requests count once the next round has run.)
    let week = eventually("A's figures with the admin active", || async {
        let v = insights(&boss_a).await;
        let week = v["weeks"].as_array().unwrap().last().unwrap().clone();
        (week["active_users"] == 7).then_some(week)
    })
    .await;
    assert_eq!(week["cross_node_active_users"], 6, "{week}");
    assert_eq!(week["interactions_inside"], 5, "{week}");
    let peer = |d: &str| {
        week["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["peer"] == d)
            .cloned()
            .unwrap_or_else(|| panic!("{d} in {week}"))
    };
    assert_eq!(peer(&b)["sent"], 6);
    assert_eq!(peer(&b)["received"], 6);
    assert_eq!(peer(&c)["sent"], 1);
    assert_eq!(peer(&p)["sent"], 5);
    // B's aggregates as A holds them agree from B's side: B received A's six follows.
    let from_b = texts(
        &na.db,
        &format!("SELECT report FROM insight_reports WHERE peer = '{b}' ORDER BY week DESC"),
    )
    .await;
    let from_b: Value = serde_json::from_str(&from_b[0]).unwrap();
    let a_in_b = from_b["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["peer"] == a.as_str())
        .unwrap()
        .clone();
    assert_eq!(a_in_b["received"], 6, "{from_b}");
    assert_eq!(a_in_b["sent"], 6, "{from_b}");

    // The partner is sent nothing and its own figures are refused everywhere.
    eventually("P's aggregates refused by A", || async {
        na.node
            .log()
            .lines()
            .any(|l| l.contains("not an org peer"))
            .then_some(())
    })
    .await;
    for site in [&na, &nb, &nc] {
        let n: i64 = db_scalar(
            &site.db,
            "SELECT COUNT(*) FROM insight_reports WHERE peer = $1",
            &[&p],
        )
        .await;
        assert_eq!(n, 0, "P's figures kept on {}", site.port);
    }
    let n: i64 = db_scalar(&np.db, "SELECT COUNT(*) FROM insight_reports", &[]).await;
    assert_eq!(n, 0, "the partner was sent aggregates");
    let v = insights(&boss_p).await;
    assert!(
        v["matrix"]["reported"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .all(|r| r == false),
        "{v}"
    );

    // Every aggregate that crossed the wire, as received: counts, node names and hashtag names
    // only; no account, handle, person's or status's URL, or free text.
    let allowed_keys: BTreeSet<String> = [
        "@context",
        "id",
        "type",
        "attributedTo",
        "week",
        "threshold",
        "activeUsers",
        "crossNodeActiveUsers",
        "interactions",
        "peer",
        "sent",
        "received",
        "sharedGroups",
        "hashtags",
        "name",
        "uses",
        "accounts",
        "updated",
        // the context's term definitions
        "fika",
        "WeeklyAggregates",
        "@id",
        "@type",
        "@container",
        "xsd",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let hosts = [&a, &b, &c];
    let mut seen = 0;
    for site in [&na, &nb, &nc] {
        for report in texts(&site.db, "SELECT report FROM insight_reports").await {
            seen += 1;
            let doc: Value = serde_json::from_str(&report).unwrap();
            let (mut keys, mut strings, mut numbers) = (BTreeSet::new(), Vec::new(), Vec::new());
            walk(&doc, &mut keys, &mut strings, &mut numbers);
            assert!(keys.is_subset(&allowed_keys), "unexpected keys {keys:?}");
            for n in numbers {
                assert!(
                    (0..1_000_000).contains(&n),
                    "a number that could be an id: {n}"
                );
            }
            let context: Vec<String> = {
                let (mut k, mut s, mut n) = (BTreeSet::new(), Vec::new(), Vec::new());
                walk(&doc["@context"], &mut k, &mut s, &mut n);
                s
            };
            for s in strings.iter().filter(|s| !context.contains(s)) {
                let node_url = hosts.iter().any(|h| {
                    *s == format!("http://{h}/actor")
                        || s.starts_with(&format!("http://{h}/insights/weeks/"))
                });
                let date = s.len() >= 10
                    && s.as_bytes()[4] == b'-'
                    && s.chars().take(4).all(|c| c.is_ascii_digit());
                let host = hosts.contains(&s);
                let tag = s == "roadmap";
                let known = ["WeeklyAggregates"].contains(&s.as_str());
                assert!(
                    node_url || date || host || tag || known,
                    "free text or a name on the wire: {s:?} in {doc}"
                );
                for name in ["ana", "bo0", "bo1", "cy", "pia", "boss"] {
                    assert!(!s.contains(name), "{name} named in {doc}");
                }
                assert!(!s.contains("/users/") && !s.contains("/statuses/"), "{s}");
            }
        }
    }
    assert!(
        seen >= 6,
        "each org node holds the other two's weeks: {seen}"
    );

    // Aggregates that break the rules, signed by B's own node key: a count below the threshold,
    // a field naming someone, another node's document, a week that has not begun. Each is
    // refused and nothing is kept. The shape is checked before the inbox answers (422); what
    // needs the node's facts is refused after it (202, logged), as for any activity.
    let key = node_private_key(&nb.db).await;
    let key_id = format!("http://{b}/actor#main-key");
    let doc = |week: &str| {
        json!({
            "id": format!("http://{b}/insights/weeks/{week}"),
            "type": "WeeklyAggregates",
            "attributedTo": format!("http://{b}/actor"),
            "week": week,
            "threshold": 5,
            "activeUsers": 40,
            "interactions": [{"peer": a.as_str(), "sent": 12}],
            "hashtags": [],
            "updated": "2026-01-06T00:00:00Z",
        })
    };
    let mut small = doc("2026-01-05");
    small["interactions"][0]["sent"] = json!(2);
    let mut named = doc("2026-01-12");
    named["interactions"][0]["account"] = json!(format!("http://{a}/users/ana0"));
    let mut foreign = doc("2026-01-19");
    foreign["id"] = json!(format!("http://{c}/insights/weeks/2026-01-19"));
    let future = doc("2099-01-05");
    for (what, object, status) in [
        ("small", small, 422),
        ("named", named, 422),
        ("foreign", foreign, 202),
        ("future", future, 202),
    ] {
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("http://{b}/actor#forged-{what}"),
            "type": "Create",
            "actor": format!("http://{b}/actor"),
            "object": object,
        });
        let r = signed_post(&format!("http://{a}/inbox"), &activity, &key, &key_id).await;
        assert_eq!(r.status().as_u16(), status, "{what}");
    }
    let bad: i64 = db_scalar(
        &na.db,
        "SELECT COUNT(*) FROM insight_reports WHERE report LIKE '%2026-01-%' OR report LIKE '%2099-%'",
        &[],
    )
    .await;
    assert_eq!(bad, 0, "a forged document was kept");
    let log = na.node.log();
    assert!(log.contains("below the threshold"), "{log}");
    assert!(
        log.contains("are not") && log.contains("has not started"),
        "{log}"
    );
}
