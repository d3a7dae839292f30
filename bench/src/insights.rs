//! Insights: computing a week's figures over a week holding `statuses` statuses and
//! `favourites` favourites (every one an interaction, half of them across nodes), against one
//! plain pass over the same rows measured on the same database; and the admin dashboard's
//! measures API on that node, against the same pass.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::db::{Db, V};
use crate::seed::{bulk, sha256_hex};
use crate::Ctx;

pub struct Sizes {
    pub accounts: usize,
    pub statuses: usize,
    pub favourites: usize,
}

pub struct Outcome {
    /// Seconds, median of three runs of `fika admin insights`.
    pub compute_s: f64,
    /// Seconds for one pass over the week's statuses and favourites with their authors.
    pub scan_s: f64,
    /// The interactions the figures count, and those a plain query counts.
    pub counted: i64,
    pub expected: i64,
    pub measures: crate::load::Stats,
}

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
const DOMAINS: [&str; 3] = ["sales.corp.example", "eng.corp.example", "ops.corp.example"];

fn last_monday_before_this_week() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    let this = (now - 4 * DAY_MS).div_euclid(WEEK_MS) * WEEK_MS + 4 * DAY_MS;
    this - WEEK_MS
}

/// An id at `ms` with `seq` in the low bits (ids are time-ordered: see the node's `ids`).
fn id_at(ms: i64, seq: usize) -> i64 {
    (ms << 16) | (seq as i64 & 0xffff)
}

async fn seed(db: &Db, s: &Sizes, week: i64) -> Result<()> {
    let key = openssl::rsa::Rsa::generate(2048)?;
    let public = String::from_utf8(key.public_key_to_pem()?)?;
    // Even accounts are local, odd ones on the three peers.
    let accounts: Vec<Vec<V>> = (0..s.accounts)
        .map(|i| {
            let domain = if i % 2 == 0 { "" } else { DOMAINS[(i / 2) % 3] };
            let name = format!("staff{i}");
            vec![
                V::I(1_000 + i as i64),
                V::S(name.clone()),
                V::S(name),
                V::S(domain.into()),
                V::S(public.clone()),
                V::S(if i == 0 { "admin" } else { "user" }.into()),
                V::I(week),
                V::I(week),
            ]
        })
        .collect();
    bulk(
        db,
        "INSERT INTO accounts (id, username, username_key, domain, public_key_pem, role, created_at, updated_at)",
        8,
        &accounts,
    )
    .await?;
    let step = WEEK_MS as f64 / s.statuses as f64;
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..s.statuses {
        let ms = week + (i as f64 * step) as i64;
        let author = 1_000 + (i % s.accounts) as i64;
        // A quarter are replies to someone on the other side (local to remote or back).
        let reply_to = (i % 4 == 0).then(|| 1_000 + ((i + 1) % s.accounts) as i64);
        batch.push(vec![
            V::I(id_at(ms, i)),
            V::I(author),
            V::S(format!("<p>status {i}</p>")),
            V::S(format!("status {i}")),
            V::S("public".into()),
            reply_to.map_or(V::I(0), V::I),
            V::I(ms),
        ]);
        if batch.len() == 20_000 || i + 1 == s.statuses {
            bulk(
                db,
                "INSERT INTO statuses (id, account_id, content, text, visibility, in_reply_to_account_id, created_at)",
                7,
                &batch,
            )
            .await?;
            batch.clear();
        }
    }
    db.exec(
        "UPDATE statuses SET in_reply_to_account_id = NULL WHERE in_reply_to_account_id = 0",
        &[],
    )
    .await?;
    let status_ids: Vec<i64> = db
        .column("SELECT id FROM statuses ORDER BY id", &[])
        .await?;
    let per_status = (s.favourites / s.accounts).max(1);
    let spread = (status_ids.len() / per_status.max(1)).max(1);
    let step = WEEK_MS as f64 / s.favourites as f64;
    for j in 0..s.favourites {
        // (account, status) pairs are distinct: j ↔ (j % accounts, j / accounts).
        let account = 1_000 + (j % s.accounts) as i64;
        // Alternate local and remote authors (even ids are local).
        let status = status_ids[((j / s.accounts) * spread + j % 2) % status_ids.len()];
        let ms = week + (j as f64 * step) as i64;
        batch.push(vec![
            V::I(id_at(ms, j)),
            V::I(account),
            V::I(status),
            V::I(ms),
        ]);
        if batch.len() == 20_000 || j + 1 == s.favourites {
            bulk(
                db,
                "INSERT OR IGNORE INTO favourites (id, account_id, status_id, created_at)",
                4,
                &batch,
            )
            .await?;
            batch.clear();
        }
    }
    db.exec(
        "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret, created_at) \
         VALUES (1, 'fika-bench', 'urn:ietf:wg:oauth:2.0:oob', 'read admin:read', 'fika-bench', 'fika-bench', $1)",
        &[V::I(week)],
    )
    .await?;
    db.exec(
        "INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at) VALUES (1, $1, 1, 1000, 'read admin:read', $2)",
        &[V::S(sha256_hex("fika-bench-insights")), V::I(week)],
    )
    .await?;
    db.exec("ANALYZE", &[]).await?;
    Ok(())
}

/// One pass over the week's replies and favourites with both sides' accounts: (seconds,
/// interactions with one side local).
async fn pass(db: &Db, lo: i64, hi: i64) -> Result<(f64, i64)> {
    let t = Instant::now();
    let replies = db
        .scalar(
            "SELECT COUNT(*) FROM statuses s JOIN accounts a ON a.id = s.account_id \
             JOIN accounts t ON t.id = s.in_reply_to_account_id \
             WHERE s.id >= $1 AND s.id < $2 AND s.account_id <> t.id AND (a.domain = '' OR t.domain = '')",
            &[V::I(lo), V::I(hi)],
        )
        .await?;
    let favourites = db
        .scalar(
            "SELECT COUNT(*) FROM favourites f JOIN statuses o ON o.id = f.status_id \
             JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = o.account_id \
             WHERE f.id >= $1 AND f.id < $2 AND f.account_id <> o.account_id AND (a.domain = '' OR t.domain = '')",
            &[V::I(lo), V::I(hi)],
        )
        .await?;
    Ok((t.elapsed().as_secs_f64(), replies + favourites))
}

pub async fn run(ctx: &Ctx, sizes: &Sizes) -> Result<Outcome> {
    let dir = ctx.run_dir.join("insights");
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("fika.db").display());
    let env = vec![
        ("FIKA_DATA_DIR".to_string(), dir.display().to_string()),
        ("FIKA_DATABASE_URL".to_string(), url.clone()),
    ];
    crate::procs::fika_cli(&ctx.fika, &env, &["migrate"], None).await?;
    let week = last_monday_before_this_week();
    let db = Db::open(&url, 1).await?;
    let started = Instant::now();
    seed(&db, sizes, week).await.context("seeding insights")?;
    eprintln!(
        "  seeded {} statuses and {} favourites in {:.1} s",
        sizes.statuses,
        sizes.favourites,
        started.elapsed().as_secs_f64()
    );
    let (lo, hi) = (week << 16, (week + WEEK_MS) << 16);
    // Warm the cache once, then measure the pass.
    pass(&db, lo, hi).await?;
    let (scan_s, expected) = pass(&db, lo, hi).await?;
    db.close().await;

    let label = chrono::DateTime::from_timestamp_millis(week)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let mut runs = Vec::new();
    let mut counted = 0;
    for _ in 0..3 {
        let out = crate::procs::fika_cli(
            &ctx.fika,
            &env,
            &["admin", "insights", "--week", &label],
            None,
        )
        .await?;
        let v: Value = serde_json::from_str(&out).context("fika admin insights output")?;
        runs.push(v["seconds"].as_f64().unwrap_or(f64::NAN));
        let figures = &v["figures"];
        counted = figures["peers"]
            .as_object()
            .map(|peers| {
                peers
                    .iter()
                    .map(|(d, p)| {
                        let (sent, received) = (
                            p["sent"].as_i64().unwrap_or(0),
                            p["received"].as_i64().unwrap_or(0),
                        );
                        // This node's own entry counts each interaction inside it on both sides.
                        if DOMAINS.contains(&d.as_str()) {
                            sent + received
                        } else {
                            sent
                        }
                    })
                    .sum()
            })
            .unwrap_or(0);
    }
    runs.sort_by(|a, b| a.total_cmp(b));

    // The dashboard's measures over the same week, one request at a time.
    let port = crate::procs::free_port();
    let node = crate::procs::NodeSpec {
        bin: &ctx.fika,
        data_dir: &dir,
        database_url: &url,
        port,
        extra: vec![],
    }
    .start("insights-node.log")
    .await?;
    let client = crate::load::client();
    let body = json!({
        "keys": ["active_users", "new_users", "interactions"],
        "start_at": label,
        "end_at": chrono::DateTime::from_timestamp_millis(week + WEEK_MS - DAY_MS)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string(),
    });
    let requests = if ctx.smoke { 3 } else { 20 };
    let mut samples = Vec::new();
    let mut errors = 0;
    let t = Instant::now();
    for _ in 0..requests {
        let s = Instant::now();
        let r = client
            .post(format!("{}/api/v1/admin/measures", node.base))
            .bearer_auth("fika-bench-insights")
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or_default();
        let total = v[2]["total"]
            .as_str()
            .unwrap_or("")
            .parse::<i64>()
            .unwrap_or(-1);
        if status.is_success() && total > 0 {
            samples.push(s.elapsed().as_secs_f64() * 1000.0);
        } else {
            if errors == 0 {
                eprintln!("  measures answered {status}: {v}");
            }
            errors += 1;
        }
    }
    let measures = crate::load::Stats::from_samples(samples, errors, t.elapsed().as_secs_f64());
    node.stop().await;
    Ok(Outcome {
        compute_s: runs[runs.len() / 2],
        scan_s,
        counted,
        expected,
        measures,
    })
}
