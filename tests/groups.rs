//! Groups that span nodes (FEP-1b12), with real nodes on loopback: a group lives on A, members
//! join from A, B and C; D is allowed by nobody. The peers are each other's partners, so what
//! arrives comes through follows and the group, not through the organisation's conversation.

mod common;

use common::{
    create_user, db_scalar, eventually, free_port, local_private_key, login, node_private_key,
    signed_get, signed_post, Api, Node, TestDb,
};
use serde_json::{json, Value};

struct Site {
    db: TestDb,
    node: Node,
    domain: String,
}

fn start(db: TestDb, port: u16, partners: &[&String]) -> Site {
    let partners = format!(
        "[{}]",
        partners
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let env = [
        ("FIKA_OAUTH_PASSWORD_GRANT", "true"),
        ("FIKA_FEDERATION_ALLOW_HTTP", "true"),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS", "1"),
        ("FIKA_FEDERATION_PARTNER_DOMAINS", partners.as_str()),
    ];
    let node = Node::start_on(&db, port, &env);
    Site {
        db,
        node,
        domain: format!("127.0.0.1:{port}"),
    }
}

struct Net {
    a: Site,
    b: Site,
    c: Site,
    d: Site,
}

fn net() -> Net {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let [a, b, c] = [0, 1, 2].map(|i| format!("127.0.0.1:{}", ports[i]));
    Net {
        a: start(TestDb::new(), ports[0], &[&b, &c]),
        b: start(TestDb::new(), ports[1], &[&a, &c]),
        c: start(TestDb::new(), ports[2], &[&a, &b]),
        // D would talk to everyone; nobody talks to D.
        d: start(TestDb::new(), ports[3], &[&a, &b, &c]),
    }
}

async fn user(site: &Site, name: &str) -> Api {
    let password = create_user(&site.db, name);
    login(&site.node, name, &password, "read write follow").await
}

fn urlencode(s: &str) -> String {
    s.replace('@', "%40").replace(':', "%3A")
}

/// The account `acct` as an app finds it before following (search with resolve).
async fn resolve(api: &Api, acct: &str) -> Value {
    let (code, found) = api
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            urlencode(acct)
        ))
        .await;
    assert_eq!(code, 200, "{found}");
    let accounts = found["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{acct} not found: {found}");
    accounts[0].clone()
}

async fn relationship(api: &Api, id: &str) -> Value {
    let (_, rels) = api
        .get(&format!("/api/v1/accounts/relationships?id[]={id}"))
        .await;
    rels[0].clone()
}

/// Joins a group from a member's node: follows it and waits for the answer wanted.
async fn join(api: &Api, group: &str, accepted: bool) -> String {
    let id = resolve(api, group).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, rel) = api
        .post(&format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(code, 200, "{rel}");
    if accepted {
        eventually("the group to accept the member", || async {
            (relationship(api, &id).await["following"] == true).then_some(())
        })
        .await;
    }
    id
}

async fn post(api: &Api, body: Value) -> Value {
    let (code, status) = api.post("/api/v1/statuses", body).await;
    assert_eq!(code, 200, "{status}");
    status
}

/// The entry of `api`'s home timeline showing `text` (as a status or the status it boosts).
async fn home_entry(api: &Api, text: &str) -> Option<Value> {
    let (_, home) = api.get("/api/v1/timelines/home").await;
    home.as_array()?
        .iter()
        .find(|s| {
            s["content"].as_str().unwrap_or("").contains(text)
                || s["reblog"]["content"].as_str().unwrap_or("").contains(text)
        })
        .cloned()
}

/// Waits for the group's boost of `text` in `api`'s home; returns the boosted status.
async fn boosted_by_group(api: &Api, text: &str, group: &str) -> Value {
    eventually(&format!("{text:?} boosted by {group} in home"), || async {
        let entry = home_entry(api, text).await?;
        let by = entry["account"]["acct"].as_str().unwrap_or_default();
        by.starts_with(group).then(|| entry["reblog"].clone())
    })
    .await
}

fn announced_lines(site: &Site, group: &str) -> Vec<String> {
    site.node
        .log()
        .lines()
        .filter(|l| l.contains("post announced by the group") && l.contains(group))
        .map(String::from)
        .collect()
}

/// How many statuses a node stores with this text.
async fn stored(site: &Site, text: &str) -> i64 {
    db_scalar(
        &site.db,
        "SELECT COUNT(*) FROM statuses WHERE text LIKE $1 OR content LIKE $1",
        &[&format!("%{text}%")],
    )
    .await
}

#[tokio::test]
async fn an_open_group_carries_posts_replies_edits_and_deletes_to_every_member_node() {
    let net = net();
    let ana = user(&net.a, "ana").await;
    let bea = user(&net.b, "bea").await;
    let cy = user(&net.c, "cy").await;
    let dan = user(&net.d, "dan").await;

    let (code, group) = ana
        .post(
            "/api/v1/groups",
            json!({"name": "guild", "display_name": "Platform guild", "note": "Builders"}),
        )
        .await;
    assert_eq!(code, 200, "{group}");
    assert_eq!(group["account"]["group"], true);
    assert_eq!(group["private"], false);
    let group_id = group["id"].as_str().unwrap().to_string();
    let handle = format!("guild@{}", net.a.domain);

    // Apps see a group account; B and C join, D cannot.
    let seen = resolve(&bea, &handle).await;
    assert_eq!(seen["group"], true, "{seen}");
    join(&bea, &handle, true).await;
    join(&cy, &handle, true).await;
    // D is not allowed by A: it cannot even see the group to join it, or mention it.
    let (code, found) = dan
        .get(&format!(
            "/api/v2/search?type=accounts&resolve=true&q={}",
            urlencode(&handle)
        ))
        .await;
    assert_eq!(code, 200);
    assert_eq!(found["accounts"].as_array().unwrap().len(), 0, "{found}");
    let (_, g) = ana.get(&format!("/api/v1/groups/{group_id}")).await;
    assert_eq!(g["members_count"], 3, "{g}");

    // A post from B that mentions the group: announced to every member node, once per node.
    let st = post(
        &bea,
        json!({"status": format!("@{handle} first light on the new build"), "visibility": "public"}),
    )
    .await;
    let bea_status = st["id"].as_str().unwrap().to_string();
    boosted_by_group(&ana, "first light", "guild").await;
    let on_c = boosted_by_group(&cy, "first light", "guild").await;
    boosted_by_group(&bea, "first light", "guild").await;
    let lines = eventually("the group's announce logged", || async {
        let l = announced_lines(&net.a, "guild");
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("deliveries=2"),
        "one delivery to B, one to C: {lines:?}"
    );

    // Someone on B who is not a member: the group does not announce it, and says why.
    let bo = user(&net.b, "bo").await;
    post(
        &bo,
        json!({"status": format!("@{handle} an outsider's word"), "visibility": "public"}),
    )
    .await;
    eventually("the refusal logged on A", || async {
        net.a
            .node
            .log()
            .lines()
            .any(|l| {
                l.contains("post not announced by the group")
                    && l.contains("the author is not a member")
            })
            .then_some(())
    })
    .await;
    assert!(home_entry(&ana, "an outsider's word").await.is_none());
    // Unknown groups answer 404, as does a group action on an account that is no group.
    let ana_id = ana.get("/api/v1/accounts/verify_credentials").await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        "/api/v1/groups/12345".to_string(),
        format!("/api/v1/groups/{ana_id}"),
    ] {
        let (code, body) = ana.get(&path).await;
        assert_eq!(code, 404, "{path}: {body}");
    }

    // A reply from C threads under it everywhere.
    let c_id = on_c["id"].as_str().unwrap().to_string();
    post(
        &cy,
        json!({"status": "reply from the C side", "in_reply_to_id": c_id}),
    )
    .await;
    for (api, id) in [(&bea, bea_status.clone())] {
        eventually("C's reply in the thread on B", || async {
            let (_, ctx) = api.get(&format!("/api/v1/statuses/{id}/context")).await;
            ctx["descendants"]
                .as_array()?
                .iter()
                .any(|s| {
                    s["content"]
                        .as_str()
                        .unwrap_or("")
                        .contains("reply from the C side")
                })
                .then_some(())
        })
        .await;
    }
    boosted_by_group(&ana, "reply from the C side", "guild").await;

    // An edit reaches every member node through the group.
    let (code, edited) = bea
        .put(
            &format!("/api/v1/statuses/{bea_status}"),
            json!({"status": format!("@{handle} first light, now with numbers")}),
        )
        .await;
    assert_eq!(code, 200, "{edited}");
    eventually("the edit on C", || async {
        let (_, s) = cy.get(&format!("/api/v1/statuses/{c_id}")).await;
        s["content"]
            .as_str()?
            .contains("now with numbers")
            .then_some(())
    })
    .await;

    // A moderator removes C's reply from the group: gone from members' homes on every node.
    let reply_on_a = boosted_by_group(&ana, "reply from the C side", "guild").await;
    let (code, body) = ana
        .delete(&format!(
            "/api/v1/groups/{group_id}/statuses/{}",
            reply_on_a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    eventually("the removed reply gone from B's home", || async {
        home_entry(&bea, "reply from the C side")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // The author deletes the post: gone on every member node.
    let (code, _) = bea.delete(&format!("/api/v1/statuses/{bea_status}")).await;
    assert_eq!(code, 200);
    eventually("the deleted post gone on C", || async {
        let (code, _) = cy.get(&format!("/api/v1/statuses/{c_id}")).await;
        (code == 404).then_some(())
    })
    .await;
    eventually("the deleted post gone from A's home", || async {
        home_entry(&ana, "now with numbers")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // A removed (and banned) member stops receiving, and cannot join again.
    let cy_on_a = resolve(&ana, &format!("cy@{}", net.c.domain)).await;
    let (code, body) = ana
        .post(
            &format!(
                "/api/v1/groups/{group_id}/members/{}/remove",
                cy_on_a["id"].as_str().unwrap()
            ),
            json!({"ban": true, "reason": "posting spam"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let group_on_c = resolve(&cy, &handle).await;
    eventually("C told it is no longer a member", || async {
        (relationship(&cy, group_on_c["id"].as_str().unwrap()).await["following"] == false)
            .then_some(())
    })
    .await;
    post(
        &bea,
        json!({"status": format!("@{handle} after the removal"), "visibility": "public"}),
    )
    .await;
    boosted_by_group(&ana, "after the removal", "guild").await;
    let lines = announced_lines(&net.a, "guild");
    assert!(
        lines.last().unwrap().contains("deliveries=1"),
        "only B now: {lines:?}"
    );
    assert_eq!(stored(&net.c, "after the removal").await, 0);
    let (code, _) = cy
        .post(
            &format!(
                "/api/v1/accounts/{}/follow",
                group_on_c["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    eventually("the banned member's Follow refused on A", || async {
        net.a
            .node
            .log()
            .lines()
            .any(|l| l.contains("activity refused") && l.contains("banned from this group"))
            .then_some(())
    })
    .await;
    assert_eq!(
        relationship(&cy, group_on_c["id"].as_str().unwrap()).await["following"],
        false
    );

    // D: nothing of it reached the group; its signed GET is refused.
    post(
        &dan,
        json!({"status": format!("@{handle} let D in"), "visibility": "public"}),
    )
    .await;
    let (_, g) = ana.get(&format!("/api/v1/groups/{group_id}")).await;
    assert_eq!(g["members_count"], 2, "{g}");
    let key = node_private_key(&net.d.db).await;
    let r = signed_get(
        &net.a.node.url("/users/guild"),
        &key,
        &format!("http://{}/actor#main-key", net.d.domain),
    )
    .await;
    assert_eq!(r.status(), 403);

    // A forged announce: signed by the group's own key, of a post the group never carried and
    // its origin does not show. C reads the group's announce back from A, finds none, and
    // stores nothing.
    let forged_note = format!("http://{}/users/bea/statuses/4242", net.b.domain);
    let forged_id = format!("http://{}/users/guild/statuses/4343/activity", net.a.domain);
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": forged_id,
        "type": "Announce",
        "actor": format!("http://{}/users/guild", net.a.domain),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": forged_note, "type": "Note",
            "attributedTo": format!("http://{}/users/bea", net.b.domain),
            "content": "words bea never wrote", "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    });
    let key = local_private_key(&net.a.db, "guild").await;
    let r = signed_post(
        &net.c.node.url("/inbox"),
        &forged,
        &key,
        &format!("http://{}/users/guild#main-key", net.a.domain),
    )
    .await;
    assert_eq!(r.status(), 202);
    eventually("C to give up on the forged announce", || async {
        net.c
            .node
            .log()
            .lines()
            .any(|l| l.contains("activity refused") && l.contains("4343"))
            .then_some(())
    })
    .await;
    assert_eq!(stored(&net.c, "never wrote").await, 0);

    // The moderation is in the audit log.
    let audit: i64 = db_scalar(
        &net.a.db,
        "SELECT COUNT(*) FROM federation_audit WHERE action IN ('group.create', 'group.remove_post', 'group.ban')",
        &[],
    )
    .await;
    assert_eq!(audit, 3);
}

#[tokio::test]
async fn a_private_group_keeps_its_posts_among_its_members() {
    let net = net();
    let ana = user(&net.a, "ana").await;
    let al = user(&net.a, "al").await;
    let bea = user(&net.b, "bea").await;
    let bo = user(&net.b, "bo").await;
    let cy = user(&net.c, "cy").await;

    let (code, group) = ana
        .post(
            "/api/v1/groups",
            json!({"name": "council", "private": true}),
        )
        .await;
    assert_eq!(code, 200, "{group}");
    assert_eq!(group["private"], true);
    assert_eq!(group["account"]["locked"], true);
    let group_id = group["id"].as_str().unwrap().to_string();
    let handle = format!("council@{}", net.a.domain);

    // Join requests wait for a moderator.
    let on_b = join(&bea, &handle, false).await;
    join(&cy, &handle, false).await;
    let requests = eventually("both requests on A", || async {
        let (_, r) = ana
            .get(&format!("/api/v1/groups/{group_id}/requests"))
            .await;
        (r.as_array()?.len() == 2).then_some(r)
    })
    .await;
    assert_eq!(relationship(&bea, &on_b).await["requested"], true);
    // Not a member yet: posting into the group is refused with a clear error.
    let (code, err) = bea
        .post(
            "/api/v1/statuses",
            json!({"status": format!("@{handle} let me in")}),
        )
        .await;
    assert_eq!(code, 403, "{err}");
    assert!(err["error"].as_str().unwrap().contains("not a member"));
    // Only moderators see and answer requests.
    let (code, _) = al.get(&format!("/api/v1/groups/{group_id}/requests")).await;
    assert_eq!(code, 403);
    for r in requests.as_array().unwrap() {
        let verb = if r["acct"].as_str().unwrap().starts_with("bea@") {
            "authorize"
        } else {
            "reject"
        };
        let (code, body) = ana
            .post(
                &format!(
                    "/api/v1/groups/{group_id}/requests/{}/{verb}",
                    r["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await;
        assert_eq!(code, 200, "{body}");
    }
    eventually("bea accepted", || async {
        (relationship(&bea, &on_b).await["following"] == true).then_some(())
    })
    .await;

    // A member's post stays among the members.
    let st = post(
        &bea,
        json!({"status": format!("@{handle} the secret plan"), "visibility": "public"}),
    )
    .await;
    assert_eq!(st["visibility"], "direct", "narrowed to the members");
    let on_a = boosted_by_group(&ana, "secret plan", "council").await;
    let b_id = st["id"].as_str().unwrap().to_string();
    // Not for a non-member: not by id, not in home, not in search (with resolve), on A or B.
    let (code, _) = bo.get(&format!("/api/v1/statuses/{b_id}")).await;
    assert_eq!(code, 404);
    assert!(home_entry(&bo, "secret plan").await.is_none());
    let (_, found) = bo
        .get("/api/v2/search?q=secret%20plan&type=statuses&resolve=true")
        .await;
    assert_eq!(found["statuses"].as_array().unwrap().len(), 0, "{found}");
    let uri = on_a["uri"].as_str().unwrap().to_string();
    let (_, found) = bo
        .get(&format!(
            "/api/v2/search?q={}&resolve=true",
            urlencode(&uri)
        ))
        .await;
    assert_eq!(found["statuses"].as_array().unwrap().len(), 0, "{found}");
    let (code, _) = al
        .get(&format!(
            "/api/v1/statuses/{}",
            on_a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(code, 404);
    // The rejected C user got nothing.
    assert_eq!(stored(&net.c, "secret plan").await, 0);
    // The group's announce is served to nodes with members only.
    let boost = eventually("the group's boost on A", || async {
        let e = home_entry(&ana, "secret plan").await?;
        e["reblog"].is_object().then_some(e)
    })
    .await;
    let path = format!(
        "/users/council/statuses/{}/activity",
        boost["id"].as_str().unwrap()
    );
    for (site, code) in [(&net.b, 200), (&net.c, 404)] {
        let key = node_private_key(&site.db).await;
        let r = signed_get(
            &net.a.node.url(&path),
            &key,
            &format!("http://{}/actor#main-key", site.domain),
        )
        .await;
        assert_eq!(r.status().as_u16(), code, "signed GET from {}", site.domain);
    }
    // bea's own node shows it to her.
    let (code, _) = bea.get(&format!("/api/v1/statuses/{b_id}")).await;
    assert_eq!(code, 200);

    // After leaving, new posts no longer reach that member.
    let (code, _) = bea
        .post(&format!("/api/v1/accounts/{on_b}/unfollow"), json!({}))
        .await;
    assert_eq!(code, 200);
    eventually("bea's leaving known on A", || async {
        let (_, g) = ana.get(&format!("/api/v1/groups/{group_id}")).await;
        (g["members_count"] == 1).then_some(())
    })
    .await;
    post(
        &ana,
        json!({"status": "@council second secret", "visibility": "direct"}),
    )
    .await;
    boosted_by_group(&ana, "second secret", "council").await;
    assert!(announced_lines(&net.a, "council")
        .last()
        .unwrap()
        .contains("deliveries=0"));
    assert_eq!(stored(&net.b, "second secret").await, 0);
    // A status id signed-GET by a stranger's key is refused as well.
    let key = local_private_key(&net.c.db, "cy").await;
    let r = signed_get(
        &net.a.node.url(&path),
        &key,
        &format!("http://{}/users/cy#main-key", net.c.domain),
    )
    .await;
    assert_eq!(r.status(), 404);
}
