//! Backups a sysadmin can take while the node runs, restore into a fresh node, and per-user
//! exports. A backup is a directory: the database (a SQLite snapshot, or a PostgreSQL custom-
//! format dump), the media files, and a manifest. Keys live in the database, so they come along.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::config::{Backend, Config};
use crate::store::Store;

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "fika.db";
const PG_DUMP_FILE: &str = "database.pgdump";

fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    Ok(options.get_filename().to_path_buf())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<u64> {
    if !from.is_dir() {
        return Ok(0);
    }
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut n = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
            n += 1;
        }
    }
    Ok(n)
}

fn run(cmd: &mut std::process::Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("running {what} (is the PostgreSQL client installed?)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Writes a consistent backup of a (possibly running) node into `dir`, which must not exist or
/// be empty.
pub async fn backup(config: &Config, dir: &Path) -> anyhow::Result<Value> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} is not empty: a backup goes into a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let store = crate::server::open_store(config).await?;
    let schema = store.applied_migration().await?.unwrap_or(0);
    let backend = config.backend()?;
    let url = config.database_url();
    match backend {
        Backend::Sqlite => {
            // VACUUM INTO writes a transactionally consistent copy while others keep writing.
            let target = dir.join(SQLITE_FILE);
            let target = target
                .to_str()
                .context("backup path is not UTF-8")?
                .replace('\'', "''");
            store.vacuum_into(&target).await?;
        }
        Backend::Postgres => {
            run(
                std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                    .arg(dir.join(PG_DUMP_FILE))
                    .arg(&url),
                "pg_dump",
            )?;
        }
    }
    store.close().await;
    // Media files are written before their rows, so every file the snapshot names exists now.
    let media = copy_dir(
        &crate::domain::media::media_dir(&config.data_dir),
        &dir.join("media"),
    )?;
    let manifest = json!({
        "format": 1,
        "fika_version": env!("CARGO_PKG_VERSION"),
        "backend": if backend == Backend::Sqlite { "sqlite" } else { "postgres" },
        "schema_version": schema,
        "media_files": media,
        "created_at": crate::convert::rfc3339_millis(crate::store::now_millis()),
    });
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores a backup into the configured, empty node (database and data directory).
pub async fn restore(config: &Config, dir: &Path, force: bool) -> anyhow::Result<Value> {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(dir.join(MANIFEST))
            .with_context(|| format!("{} holds no fika backup", dir.display()))?,
    )?;
    let backend = config.backend()?;
    let expected = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    if manifest["backend"] != expected {
        bail!(
            "the backup is of a {} node, but database.url selects {expected}",
            manifest["backend"]
        );
    }
    let url = config.database_url();
    match backend {
        Backend::Sqlite => {
            let path = sqlite_path(&url)?;
            if path.exists() && !force {
                bail!(
                    "{} exists: restore into a fresh node (or pass --force)",
                    path.display()
                );
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            std::fs::copy(dir.join(SQLITE_FILE), &path)
                .with_context(|| format!("copying the database to {}", path.display()))?;
        }
        Backend::Postgres => {
            let store = Store::connect(config).await?;
            let used = store.has_schema().await?;
            store.close().await;
            if used && !force {
                bail!("the database already holds a fika schema: restore into an empty database (or pass --force)");
            }
            let mut cmd = std::process::Command::new("pg_restore");
            cmd.args(["--no-owner", "--no-privileges", "--exit-on-error"]);
            if force {
                cmd.args(["--clean", "--if-exists"]);
            }
            run(
                cmd.arg("--dbname").arg(&url).arg(dir.join(PG_DUMP_FILE)),
                "pg_restore",
            )?;
        }
    }
    let media = copy_dir(
        &dir.join("media"),
        &crate::domain::media::media_dir(&config.data_dir),
    )?;
    // An older backup is brought up to this version's schema now rather than at first start.
    let store = crate::server::open_store(config).await?;
    let accounts = store.list_local_accounts().await?.len();
    store.close().await;
    Ok(
        json!({"restored_from": dir, "media_files": media, "local_accounts": accounts, "backup": manifest}),
    )
}

/// One user's profile, posts and follows as ActivityStreams JSON.
pub async fn export_user(config: &Config, username: &str) -> anyhow::Result<Value> {
    let store = crate::server::open_store(config).await?;
    let account = crate::domain::accounts::find_local(&store, username)
        .await?
        .with_context(|| format!("no local account {username:?}"))?;
    let domain = config.public_domain(config.server.listen);
    let urls = crate::convert::NodeUrls::new(config.public_scheme(&domain), &domain)?;
    let tags: Vec<String> = store
        .featured_tags(account.id)
        .await?
        .into_iter()
        .map(|t| t.display)
        .collect();
    let actor = crate::convert::activitypub::local_person(&account, &tags, &urls);
    let mut notes = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.all_statuses_of(account.id, 500, offset).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as i64;
        notes.extend(page);
    }
    let mut items = Vec::new();
    for status in notes.iter().filter(|s| s.reblog_of_id.is_none()) {
        let media = store.media_of_statuses(&[status.id]).await?;
        let tags: Vec<String> = store
            .tags_of(&[status.id])
            .await?
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let mention_ids: Vec<i64> = store
            .mentions_of(&[status.id])
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        let mentioned = store.accounts_by_ids(&mention_ids).await?;
        let in_reply_to = match status.in_reply_to_id {
            Some(parent) => store.status_by_id(parent).await?.map(|p| {
                p.uri
                    .clone()
                    .unwrap_or_else(|| urls.status(&account.username, p.id).to_string())
            }),
            None => None,
        };
        let poll = store.poll(status.id).await?;
        let parts = crate::convert::activitypub::NoteParts {
            mentioned: &mentioned,
            tags: &tags,
            media: &media,
            in_reply_to,
            audience: None,
            poll: poll.as_ref(),
        };
        // With what the author typed, so the export can be imported or re-posted elsewhere.
        let note = crate::convert::activitypub::exported_note(&urls, status, &account, &parts);
        items.push(json!({"type": "Create", "actor": urls.actor(&account.username).to_string(), "object": note}));
    }
    let list = |rows: Vec<crate::store::accounts::AccountRow>| -> Vec<String> {
        rows.iter()
            .map(|a| {
                a.ap_id
                    .clone()
                    .unwrap_or_else(|| urls.actor(&a.username).to_string())
            })
            .collect()
    };
    let following = list(store.follow_page(account.id, false, 100_000, 0).await?);
    let followers = list(store.follow_page(account.id, true, 100_000, 0).await?);
    store.close().await;
    Ok(json!({
        "@context": fika_federation::AS_CONTEXT,
        "type": "Collection",
        "summary": format!("Export of {} from {}", account.username, urls.domain),
        "actor": actor,
        "outbox": {"type": "OrderedCollection", "totalItems": items.len(), "orderedItems": items},
        "following": {"type": "Collection", "totalItems": following.len(), "items": following},
        "followers": {"type": "Collection", "totalItems": followers.len(), "items": followers},
    }))
}
