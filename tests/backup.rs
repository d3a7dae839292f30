//! Backups taken while a node runs restore into a fresh node with everything intact; upgrades
//! refuse a database newer than the binary.

mod common;

use common::{client, create_user, free_port, login, stderr, stdout, Node, TestDb};
use serde_json::{json, Value};
use sqlx::Connection;

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(32, 16, image::Rgb([10, 120, 200]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn actor_key(node: &Node, name: &str) -> String {
    let doc: Value = client()
        .get(node.url(&format!("/users/{name}")))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn backup_while_running_and_restore_into_a_fresh_node() {
    let db = TestDb::new();
    let port = free_port();
    let env = [("FIKA_OAUTH_PASSWORD_GRANT", "true")];
    let node = Node::start_on(&db, port, &env);
    let ada_pw = create_user(&db, "ada");
    let bob_pw = create_user(&db, "bob");
    let ada = login(&node, "ada", &ada_pw, "read write follow").await;
    let bob = login(&node, "bob", &bob_pw, "read write follow").await;
    let media: Value = client()
        .post(ada.url("/api/v2/media"))
        .bearer_auth(&ada.token)
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(png()).file_name("a.png"),
                )
                .text("description", "a chart"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, post) = ada
        .post(
            "/api/v1/statuses",
            json!({"status": "before the backup #ops", "media_ids": [media["id"]]}),
        )
        .await;
    let (_, ada_me) = ada.get("/api/v1/accounts/verify_credentials").await;
    let ada_id = ada_me["id"].as_str().unwrap().to_string();
    bob.post(&format!("/api/v1/accounts/{ada_id}/follow"), json!({}))
        .await;
    let key_before = actor_key(&node, "ada").await;

    let dir = db.data_dir().join("backup-1");
    let out = db.cli(&["admin", "backup", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"media_files\": 2"),
        "{}",
        stdout(&out)
    );
    // Written after the backup: must not come back.
    ada.post("/api/v1/statuses", json!({"status": "after the backup"}))
        .await;
    let again = db.cli(&["admin", "backup", dir.to_str().unwrap()]);
    assert!(!again.status.success(), "a backup never overwrites another");
    assert!(node.stop().success());

    // A fresh node (new database, new data directory) on the same address.
    let fresh = TestDb::new();
    let out = fresh.cli(&["admin", "restore", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fresh.cli(&["admin", "restore", dir.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "restoring over a used node needs --force"
    );
    let node = Node::start_on(&fresh, port, &env);
    assert!(
        node.admin_password.is_none(),
        "the restored admin is there, no new one"
    );
    let ada = login(&node, "ada", &ada_pw, "read write follow").await;
    let bob = login(&node, "bob", &bob_pw, "read write follow").await;
    assert_eq!(actor_key(&node, "ada").await, key_before, "keys intact");
    let (_, statuses) = ada
        .get(&format!("/api/v1/accounts/{ada_id}/statuses"))
        .await;
    let texts: Vec<&str> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["content"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.as_array().unwrap().len(), 1, "{texts:?}");
    assert_eq!(statuses[0]["id"], post["id"]);
    let attachment = statuses[0]["media_attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client().get(&attachment).send().await.unwrap();
    assert_eq!(r.status(), 200, "media intact");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let (_, rel) = bob
        .get(&format!("/api/v1/accounts/relationships?id[]={ada_id}"))
        .await;
    assert_eq!(rel[0]["following"], true, "follows intact");
    let (_, home) = bob.get("/api/v1/timelines/home").await;
    assert_eq!(home[0]["id"], post["id"], "home feed intact");

    // And one user's data as ActivityStreams.
    let out = fresh.cli(&["admin", "export-user", "ada"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(export["actor"]["preferredUsername"], "ada");
    assert_eq!(export["outbox"]["totalItems"], 1);
    assert_eq!(
        export["outbox"]["orderedItems"][0]["object"]["source"]["content"],
        "before the backup #ops"
    );
    assert_eq!(export["followers"]["totalItems"], 1);
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let db = TestDb::new();
    assert!(db.cli(&["migrate"]).status.success());
    let sql = "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
               VALUES (99990001, 'from the future', CURRENT_TIMESTAMP, TRUE, X'00', 0)";
    if db.url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(&sql.replace("X'00'", "'\\x00'::bytea"))
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    let out = common::base_command()
        .arg("serve")
        .envs(db.env())
        .env("FIKA_SERVER_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("newer version of fika") && err.contains("99990001"),
        "{err}"
    );
}
