//! The client API on a seeded database: home timeline latency and throughput, deep pages,
//! light and heavy followers, posting and the fan-out it leaves behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::db::{Db, V};
use crate::load::{self, Stats};
use crate::procs::{free_port, NodeSpec, Proc};
use crate::seed::Seeded;
use crate::Ctx;

pub struct Options {
    pub posting: bool,
    pub light_heavy: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Results {
    pub raw_push: Stats,
    pub raw_fanout_rows_per_s: f64,
    pub home_c1: Stats,
    pub page5_c1: Stats,
    pub home_c64: Stats,
    pub light: Option<Stats>,
    pub heavy: Option<Stats>,
    pub posting: Option<Stats>,
    /// Home p50 at c=1 for viewers who block 20 and mute 20 of the accounts they follow, and
    /// for the same viewers before (the big database only).
    pub hidden: Option<(Stats, Stats)>,
    /// Home p50 for viewers with no filters, then with five filters of three keywords each.
    pub filtered: Option<(Stats, Stats)>,
    pub fanout_rows: i64,
    pub fanout_rows_per_s: f64,
    pub drain_seconds: f64,
    pub startup_ms: f64,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    pub db_bytes: Option<u64>,
}

fn home_url(base: &str, extra: &str) -> String {
    format!("{base}/api/v1/timelines/home?limit=20{extra}")
}

/// Raw SQL for the same work the node does: the timeline query, and fan-out of an existing
/// status into its author's followers' feeds as one INSERT…SELECT per transaction.
async fn raw_baselines(ctx: &Ctx, db: &Db, seeded: &Seeded, r: &mut Results) -> Result<()> {
    r.raw_push = crate::db::push_query_latency(db, &seeded.accounts, ctx.window(1.5)).await?;
    let oldest = db
        .column("SELECT id FROM statuses ORDER BY id LIMIT 3000", &[])
        .await?;
    let authors = db
        .column(
            "SELECT account_id FROM statuses ORDER BY id LIMIT 3000",
            &[],
        )
        .await?;
    let window = ctx.window(1.0);
    let start = Instant::now();
    let mut rows = 0u64;
    for (status, author) in oldest.iter().zip(&authors) {
        if start.elapsed() > window {
            break;
        }
        rows += db
            .exec(
                "INSERT INTO home_feed (account_id, status_id, author_id) \
                 SELECT f.account_id, $1, $2 FROM follows f WHERE f.target_account_id = $2 \
                 ON CONFLICT DO NOTHING",
                &[V::I(*status), V::I(*author)],
            )
            .await?;
    }
    r.raw_fanout_rows_per_s = rows as f64 / start.elapsed().as_secs_f64();
    Ok(())
}

pub async fn run(
    ctx: &Ctx,
    name: &str,
    url: &str,
    seeded: &Seeded,
    opts: &Options,
) -> Result<Results> {
    let mut r = Results::default();
    let db = Db::open(url, 2).await?;
    raw_baselines(ctx, &db, seeded, &mut r).await?;
    // (token, max_id) for page 5 of the users whose feeds are that long.
    let mut page5: Vec<(String, i64)> = Vec::new();
    for (a, token) in seeded.accounts.iter().zip(&seeded.tokens).take(100) {
        let long_enough = !db
            .column(
                "SELECT status_id FROM home_feed WHERE account_id = $1 ORDER BY status_id DESC LIMIT 1 OFFSET 99",
                &[V::I(*a)],
            )
            .await?
            .is_empty();
        if !long_enough {
            continue;
        }
        if let Some(id) = db
            .column(
                "SELECT status_id FROM home_feed WHERE account_id = $1 ORDER BY status_id DESC LIMIT 1 OFFSET 79",
                &[V::I(*a)],
            )
            .await?
            .pop()
        {
            page5.push((token.clone(), id));
        }
    }
    prewarm(&db, url).await;

    let node = start_node(ctx, name, url, name).await?;
    r.startup_ms = node.startup.as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.idle_rss_kib = node.memory_kib().0;
    let tokens = Arc::new(seeded.tokens.clone());

    r.home_c1 = load::run(
        1,
        ctx.window(0.5),
        ctx.window(3.0),
        load::get(home_url(&node.base, ""), tokens.clone()),
    )
    .await;
    // Page 5 of each of the first 100 users' feeds.
    let (base, pages) = (node.base.clone(), Arc::new(page5));
    if !pages.is_empty() {
        r.page5_c1 = load::run(
            1,
            ctx.window(0.3),
            ctx.window(2.0),
            Arc::new(move |client: reqwest::Client, _conn, i| {
                let (token, max_id) = pages[i as usize % pages.len()].clone();
                let url = home_url(&base, &format!("&max_id={max_id}"));
                Box::pin(async move {
                    match client.get(&url).bearer_auth(token).send().await {
                        Ok(resp) if resp.status().is_success() => {
                            resp.bytes().await.map(|b| b.len() > 100).unwrap_or(false)
                        }
                        _ => false,
                    }
                })
            }),
        )
        .await;
    }
    r.home_c64 = load::run(
        64,
        ctx.window(0.5),
        ctx.window(4.0),
        load::get(home_url(&node.base, ""), tokens.clone()),
    )
    .await;
    if opts.light_heavy {
        for (slot, token) in [(0, &seeded.light_token), (1, &seeded.heavy_token)] {
            let s = load::run(
                1,
                ctx.window(0.3),
                ctx.window(2.0),
                load::get(home_url(&node.base, ""), Arc::new(vec![token.clone()])),
            )
            .await;
            if slot == 0 {
                r.light = Some(s);
            } else {
                r.heavy = Some(s);
            }
        }
    }
    if opts.light_heavy {
        r.hidden = Some(hidden_home(ctx, &db, &node.base, seeded).await?);
        r.filtered = Some(filtered_home(ctx, &db, &node.base, seeded).await?);
    }
    if opts.posting {
        let before = db.scalar("SELECT COUNT(*) FROM home_feed", &[]).await?;
        let base = node.base.clone();
        let tokens = tokens.clone();
        let started = Instant::now();
        let s = load::run(
            16,
            Duration::ZERO,
            ctx.window(4.0),
            Arc::new(move |client: reqwest::Client, conn, i| {
                let url = format!("{base}/api/v1/statuses");
                let token = tokens[(conn * 131 + i as usize * 17) % tokens.len()].clone();
                Box::pin(async move {
                    let body = json!({"status": format!("Benchmark post {conn}/{i}: nothing to see here, just the posting path at work."), "visibility": "public"});
                    matches!(client.post(&url).bearer_auth(token).json(&body).send().await,
                             Ok(resp) if resp.status().is_success())
                })
            }),
        )
        .await;
        let window_end = Instant::now();
        // Wait for the asynchronous fan-out (if this build has one) to drain.
        if db.table_exists("feed_fanout").await {
            let deadline = Instant::now() + Duration::from_secs(180);
            while db.scalar("SELECT COUNT(*) FROM feed_fanout", &[]).await? > 0
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        r.drain_seconds = window_end.elapsed().as_secs_f64();
        let after = db.scalar("SELECT COUNT(*) FROM home_feed", &[]).await?;
        r.fanout_rows = after - before;
        r.fanout_rows_per_s = r.fanout_rows as f64 / started.elapsed().as_secs_f64();
        r.posting = Some(s);
    }
    r.peak_rss_kib = node.memory_kib().1;
    if let Some(path) = url.strip_prefix("sqlite://") {
        r.db_bytes = std::fs::metadata(path).ok().map(|m| m.len());
    }
    node.stop().await;
    db.close().await;
    Ok(r)
}

/// The first 200 seeded viewers (account id, token), whose home feeds the before/after rows
/// (B1, B2) read.
fn viewers(seeded: &Seeded) -> Vec<(i64, String)> {
    seeded
        .accounts
        .iter()
        .copied()
        .zip(seeded.tokens.iter().cloned())
        .take(200)
        .collect()
}

/// Their home timelines at c=1.
async fn viewers_home(ctx: &Ctx, base: &str, viewers: &[(i64, String)]) -> Stats {
    let tokens = Arc::new(viewers.iter().map(|v| v.1.clone()).collect::<Vec<_>>());
    load::run(
        1,
        ctx.window(0.3),
        ctx.window(2.0),
        load::get(home_url(base, ""), tokens),
    )
    .await
}

/// The home timeline of 200 viewers, then the same after each blocks 20 and mutes 20 of the
/// accounts it follows (their rows stay in the feed and are left out when read); the blocks
/// and mutes are removed again afterwards.
async fn hidden_home(ctx: &Ctx, db: &Db, base: &str, seeded: &Seeded) -> Result<(Stats, Stats)> {
    let viewers = viewers(seeded);
    let before = viewers_home(ctx, base, &viewers).await;
    let mut id = 8_000_000_000_000_000i64;
    for (viewer, _) in &viewers {
        let followed = db
            .column(
                "SELECT target_account_id FROM follows WHERE account_id = $1 ORDER BY target_account_id LIMIT 40",
                &[V::I(*viewer)],
            )
            .await?;
        for (k, target) in followed.iter().enumerate() {
            id += 1;
            let sql = if k % 2 == 0 {
                "INSERT INTO blocks (id, account_id, target_account_id, created_at) VALUES ($1, $2, $3, 0)"
            } else {
                "INSERT INTO mutes (id, account_id, target_account_id, created_at) VALUES ($1, $2, $3, 0)"
            };
            db.exec(sql, &[V::I(id), V::I(*viewer), V::I(*target)])
                .await?;
        }
    }
    let after = viewers_home(ctx, base, &viewers).await;
    db.exec("DELETE FROM blocks WHERE id > 8000000000000000", &[])
        .await?;
    db.exec("DELETE FROM mutes WHERE id > 8000000000000000", &[])
        .await?;
    Ok((before, after))
}

/// The home timeline of 200 viewers, then the same after each has five `warn` filters on the
/// home context with three keywords each (one of them a common word, so statuses do match and
/// carry `filtered`); the filters are removed again afterwards.
async fn filtered_home(ctx: &Ctx, db: &Db, base: &str, seeded: &Seeded) -> Result<(Stats, Stats)> {
    let viewers = viewers(seeded);
    let before = viewers_home(ctx, base, &viewers).await;
    let mut id = 8_100_000_000_000_000i64;
    let words = ["the", "quarterly", "offsite", "budget", "zebra"];
    for (viewer, _) in &viewers {
        for (f, word) in words.iter().enumerate() {
            id += 1;
            let filter = id;
            db.exec(
                "INSERT INTO filters (id, account_id, title, context, action, expires_at, created_at) \
                 VALUES ($1, $2, $3, 'home', 'warn', NULL, 0)",
                &[V::I(filter), V::I(*viewer), V::S(format!("bench filter {f}"))],
            )
            .await?;
            for k in 0..3 {
                id += 1;
                let keyword = if k == 0 {
                    word.to_string()
                } else {
                    format!("{word}{k}x")
                };
                db.exec(
                    "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) VALUES ($1, $2, $3, TRUE)",
                    &[V::I(id), V::I(filter), V::S(keyword)],
                )
                .await?;
            }
        }
    }
    let after = viewers_home(ctx, base, &viewers).await;
    db.exec("DELETE FROM filters WHERE id > 8100000000000000", &[])
        .await?;
    Ok((before, after))
}

/// Reads the database into memory before measuring: this machine reclaims idle page cache
/// aggressively, and a benchmark of disk reads would say nothing about the node.
pub async fn prewarm(db: &Db, url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.to_string();
        let _ = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut f = std::fs::File::open(path)?;
            let mut buf = vec![0u8; 1 << 20];
            while f.read(&mut buf)? > 0 {}
            std::io::Result::Ok(())
        })
        .await;
    } else {
        // pg_prewarm ships with PostgreSQL's contrib; without it the first pass warms up.
        if db
            .exec("CREATE EXTENSION IF NOT EXISTS pg_prewarm", &[])
            .await
            .is_ok()
        {
            for table in [
                "statuses",
                "home_feed",
                "follows",
                "accounts",
                "account_stats",
                "oauth_tokens",
            ] {
                let _ = db
                    .exec(&format!("SELECT COUNT(pg_prewarm('{table}'))"), &[])
                    .await;
            }
        }
    }
}

/// Three identical passes of the read load on one running node; VmHWM after each. The first
/// passes fill caches (SQLite's page cache, up to 2 MiB per connection, and statement caches);
/// a leak shows as growth that goes on from the second pass to the third.
pub async fn leak_check(ctx: &Ctx, name: &str, url: &str, seeded: &Seeded) -> Result<Vec<u64>> {
    let node = start_node(ctx, name, url, name).await?;
    let tokens = Arc::new(seeded.tokens.clone());
    let mut peaks = Vec::new();
    for _ in 0..3 {
        load::run(
            64,
            Duration::ZERO,
            ctx.window(3.0),
            load::get(home_url(&node.base, ""), tokens.clone()),
        )
        .await;
        peaks.push(node.memory_kib().1);
    }
    node.stop().await;
    Ok(peaks)
}

/// Start-up to the first answered `/api/v1/instance` on an existing, migrated database:
/// the median of `runs` starts.
pub async fn startup(ctx: &Ctx, url: &str, runs: usize) -> Result<f64> {
    let mut times = Vec::new();
    for i in 0..runs {
        let node = start_node(ctx, "startup", url, &format!("startup-{i}")).await?;
        times.push(node.startup.as_secs_f64() * 1000.0);
        node.stop().await;
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(load::percentile(&times, 50.0))
}

/// A node on `url` with its data directory `RUN/{name}-data` and its log `{log}.log` there.
async fn start_node(ctx: &Ctx, name: &str, url: &str, log: &str) -> Result<Proc> {
    let data_dir = ctx.run_dir.join(format!("{name}-data"));
    std::fs::create_dir_all(&data_dir)?;
    let spec = NodeSpec {
        bin: &ctx.fika,
        data_dir: &data_dir,
        database_url: url,
        port: free_port(),
        extra: vec![],
    };
    spec.start(&format!("{log}.log")).await
}
