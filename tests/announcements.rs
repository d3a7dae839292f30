//! Announcements across nodes, with real nodes on loopback: A and B are each other's `org`
//! peers, C a partner of both, D allowed by nobody. A communicator on A publishes to the
//! organisation; B's staff read, dismiss and react; A sees B's counts (aggregates only).

mod common;

use common::{
    create_user, db_scalar, eventually, free_port, local_private_key, login, signed_post, Api,
    Node, Stream, TestDb,
};
use serde_json::{json, Value};

struct Site {
    db: TestDb,
    node: Node,
    domain: String,
}

fn start(db: TestDb, port: u16, name: &str, org: &[&String], partners: &[&String]) -> Site {
    let list = |d: &[&String]| {
        format!(
            "[{}]",
            d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    let (org, partners) = (list(org), list(partners));
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_BACKFILL_STATUSES", "0"),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS", org.as_str()),
        ("FIKA_FEDERATION_PARTNER_DOMAINS", partners.as_str()),
        ("FIKA_SERVER_NODE_NAME", name),
        // No first admin: the staff counted are the test's own users.
        ("FIKA_ADMIN_INITIAL_USERNAME", ""),
    ];
    let node = Node::start_on(&db, port, &env);
    Site {
        db,
        node,
        domain: format!("127.0.0.1:{port}"),
    }
}

const SCOPES: &str = "read write follow admin:read admin:write";

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(&site.node, name, &password, SCOPES).await
}

async fn stored(site: &Site) -> i64 {
    db_scalar(&site.db, "SELECT COUNT(*) FROM announcements", &[]).await
}

async fn shown(api: &Api) -> Vec<Value> {
    let (code, list) = api.get("/api/v1/announcements").await;
    assert_eq!(code, 200, "{list}");
    list.as_array().unwrap().clone()
}

/// The next streaming event named `name`, skipping others.
async fn next_named(stream: &mut Stream, name: &str) -> String {
    loop {
        let (event, data) = stream.next().await;
        if event == name {
            return data;
        }
    }
}

#[tokio::test]
async fn an_org_announcement_is_read_across_nodes_and_counted_at_its_origin() {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let [a, b, c] = [0, 1, 2].map(|i| format!("127.0.0.1:{}", ports[i]));
    let na = start(TestDb::new(), ports[0], "hq", &[&b], &[&c]);
    let nb = start(TestDb::new(), ports[1], "sales", &[&a], &[&c]);
    let nc = start(TestDb::new(), ports[2], "partner", &[], &[&a, &b]);
    let nd = start(TestDb::new(), ports[3], "outside", &[&a, &b], &[]);

    let hr = user(&na, "hr").await;
    let out = na.db.cli(&["admin", "set-role", "hr", "communicator"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let al = user(&na, "al").await;
    let staff = [
        user(&nb, "b1").await,
        user(&nb, "b2").await,
        user(&nb, "b3").await,
    ];
    let mut stream_b1 = Stream::open(&staff[0], "/api/v1/streaming/user").await;
    let mut stream_b3 = Stream::open(&staff[2], "/api/v1/streaming/user").await;

    // Refused, with nothing written: no role, ends before it starts, an unknown audience.
    let (code, err) = al
        .post(
            "/api/v1/admin/announcements",
            json!({"text": "hi", "audience": "org"}),
        )
        .await;
    assert_eq!(code, 403, "{err}");
    let (code, err) = hr
        .post(
            "/api/v1/admin/announcements",
            json!({"text": "hi", "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(code, 422, "{err}");
    assert!(err["error"]
        .as_str()
        .unwrap()
        .contains("ends_at must be after starts_at"));
    let (code, _) = hr
        .post(
            "/api/v1/admin/announcements",
            json!({"text": "hi", "audience": "planet"}),
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(stored(&na).await, 0);

    let (code, published) = hr
        .post(
            "/api/v1/admin/announcements",
            json!({"text": "The #canteen closes at 2 pm on Friday", "audience": "org"}),
        )
        .await;
    assert_eq!(code, 200, "{published}");
    let id = published["id"].as_str().unwrap().to_string();

    // Shown on A, and on B under A's name; B's streams are told.
    assert!(shown(&al).await.iter().any(|a| a["id"] == id.as_str()));
    let event: Value =
        serde_json::from_str(&next_named(&mut stream_b1, "announcement").await).unwrap();
    assert!(
        event["content"]
            .as_str()
            .unwrap()
            .contains("closes at 2 pm"),
        "{event}"
    );
    assert!(event["content"].as_str().unwrap().contains("hq"), "{event}");
    let on_b = shown(&staff[0]).await;
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    let b_id = on_b[0]["id"].as_str().unwrap().to_string();
    assert_eq!(on_b[0]["read"], false);
    assert_eq!(on_b[0]["tags"][0]["name"], "canteen");

    // Two of B's three dismiss it, one reacts.
    for api in &staff[..2] {
        let (code, _) = api
            .post(&format!("/api/v1/announcements/{b_id}/dismiss"), json!({}))
            .await;
        assert_eq!(code, 200);
    }
    let (code, _) = staff[2]
        .put(
            &format!("/api/v1/announcements/{b_id}/reactions/%F0%9F%91%8D"),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = staff[2]
        .put(
            &format!("/api/v1/announcements/{b_id}/reactions/thumbsup"),
            json!({}),
        )
        .await;
    assert_eq!(code, 422, "not an emoji");
    assert!(shown(&staff[0]).await.is_empty(), "dismissed: not listed");
    let (_, all) = staff[0]
        .get("/api/v1/announcements?with_dismissed=true")
        .await;
    assert_eq!(all[0]["read"], true);
    let reactions = shown(&staff[2]).await[0]["reactions"].clone();
    assert_eq!(
        reactions,
        json!([{"name": "👍", "count": 1, "me": true, "url": null, "static_url": null}])
    );

    // A's admin API: read by 2 of 3 on B, one reaction, within seconds.
    let counts = eventually("B's counts on A", || async {
        let (_, s) = hr.get(&format!("/api/v1/admin/announcements/{id}")).await;
        let b = s["nodes"]
            .as_array()?
            .iter()
            .find(|n| n["node"] == nb.domain.as_str())?
            .clone();
        (b["read"] == 2 && b["reactions"]["👍"] == 1).then_some(s)
    })
    .await;
    let b = counts["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == nb.domain.as_str())
        .unwrap();
    assert_eq!(b["reached"], 3, "{counts}");
    assert_eq!(counts["nodes"][0]["node"], "this");
    assert_eq!(counts["nodes"][0]["reached"], 2, "hr and al on A");
    assert_eq!(counts["total"]["reached"], 5);
    assert_eq!(counts["total"]["read"], 2);

    // A reminder reaches the one who has not read it.
    let (code, _) = hr
        .post(
            &format!("/api/v1/admin/announcements/{id}/remind"),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    let first: Value =
        serde_json::from_str(&next_named(&mut stream_b3, "announcement").await).unwrap();
    assert_eq!(first["id"], b_id.as_str());
    let again: Value =
        serde_json::from_str(&next_named(&mut stream_b3, "announcement").await).unwrap();
    assert_eq!(again["id"], b_id.as_str());

    // An edit reaches B.
    let (code, _) = hr
        .put(
            &format!("/api/v1/admin/announcements/{id}"),
            json!({"text": "The #canteen closes at 3 pm on Friday"}),
        )
        .await;
    assert_eq!(code, 200);
    eventually("the edit on B", || async {
        let (_, all) = staff[0]
            .get("/api/v1/announcements?with_dismissed=true")
            .await;
        all[0]["content"].as_str()?.contains("3 pm").then_some(())
    })
    .await;

    // The partner and the outsider got nothing; a partner's own announcement is refused.
    assert_eq!(stored(&nc).await, 0);
    assert_eq!(stored(&nd).await, 0);
    let _cy = user(&nc, "cy").await;
    let key = local_private_key(&nc.db, "cy").await;
    let actor = format!("http://{}/users/cy", nc.domain);
    let forged = json!({
        "@context": fika_federation::announcements::context(),
        "id": format!("http://{}/announcements/1#create", nc.domain),
        "type": "Create",
        "actor": actor,
        "object": {
            "id": format!("http://{}/announcements/1", nc.domain), "type": "Announcement",
            "attributedTo": actor, "name": "partner", "content": "<p>buy our stuff</p>",
            "published": "2026-12-01T00:00:00Z", "updated": "2026-12-01T00:00:00Z"
        }
    });
    let r = signed_post(
        &nb.node.url("/inbox"),
        &forged,
        &key,
        &format!("{actor}#main-key"),
    )
    .await;
    assert!(
        r.status().is_success() || r.status() == 422,
        "{}",
        r.status()
    );
    eventually("B refusing the partner's announcement", || async {
        nb.node
            .log()
            .lines()
            .any(|l| l.contains("activity refused") && l.contains("may not send announcements"))
            .then_some(())
    })
    .await;
    assert_eq!(stored(&nb).await, 1);

    // Withdrawn: gone from B's apps, and B's streams are told.
    let (code, _) = hr
        .delete(&format!("/api/v1/admin/announcements/{id}"))
        .await;
    assert_eq!(code, 200);
    let gone = next_named(&mut stream_b1, "announcement.delete").await;
    assert_eq!(gone, b_id);
    let (_, all) = staff[0]
        .get("/api/v1/announcements?with_dismissed=true")
        .await;
    assert_eq!(all, json!([]));
    let audit: i64 = db_scalar(
        &na.db,
        "SELECT COUNT(*) FROM federation_audit WHERE action LIKE 'announcement.%'",
        &[],
    )
    .await;
    assert_eq!(audit, 4, "publish, remind, edit, withdraw");
    let _ = (&a, &b, &c);
}
