//! Profile search: `/api/v2/search?type=accounts` over discoverable profiles with fields, bios
//! and featured tags, against the raw full-text query on the same database and index.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::db::{Db, V};
use crate::load::{self, Stats};
use crate::procs::{free_port, NodeSpec};
use crate::seed::{self, Rng};
use crate::Ctx;

const BASE: i64 = 1_000;
const T0_MS: i64 = 1_767_225_600_000;

const SKILLS: [&str; 40] = [
    "terraform",
    "kubernetes",
    "ansible",
    "postgres",
    "rust",
    "golang",
    "python",
    "react",
    "kafka",
    "grafana",
    "prometheus",
    "linux",
    "networking",
    "security",
    "compliance",
    "payroll",
    "tax",
    "audit",
    "recruiting",
    "onboarding",
    "design",
    "figma",
    "research",
    "writing",
    "legal",
    "contracts",
    "procurement",
    "logistics",
    "forecasting",
    "excel",
    "sales",
    "marketing",
    "seo",
    "support",
    "training",
    "statistics",
    "pricing",
    "facilities",
    "translation",
    "mentoring",
];
const TEAMS: [&str; 8] = [
    "Platform", "Finance", "People", "Legal", "Sales", "Support", "Data", "Design",
];

#[derive(Debug, Clone, Default)]
pub struct Results {
    pub accounts: usize,
    /// The node's answer, c=1.
    pub search: Stats,
    /// The full-text query alone, straight through sqlx.
    pub raw: Stats,
    /// Accounts the node returned per query (mean).
    pub hits: f64,
}

/// The raw query: one skill word as a prefix over the index, a page of ids.
fn raw_sql(db: &Db) -> &'static str {
    if db.is_pg() {
        "SELECT account_id FROM account_search WHERE doc @@ to_tsquery('simple', $1) LIMIT 20"
    } else {
        "SELECT rowid FROM account_search WHERE account_search MATCH $1 LIMIT 20"
    }
}

fn raw_query(db: &Db, word: &str) -> String {
    if db.is_pg() {
        format!("{word}:*")
    } else {
        format!("\"{word}\"*")
    }
}

/// `accounts` discoverable profiles (three skills, a team, a bio, two featured tags each) on a
/// fresh database at `url`, indexed as the node's migration indexes existing profiles.
async fn seed(db: &Db, accounts: usize) -> Result<()> {
    let mut rng = Rng::new(0x64_69_72);
    let key = openssl::rsa::Rsa::generate(2048)?;
    let public = String::from_utf8(key.public_key_to_pem()?)?;
    let mut rows = Vec::new();
    let mut tags = Vec::new();
    for i in 0..accounts {
        let skill = |rng: &mut Rng| SKILLS[rng.below(SKILLS.len())];
        let skills = [skill(&mut rng), skill(&mut rng), skill(&mut rng)].join(", ");
        let team = TEAMS[rng.below(TEAMS.len())];
        let fields = serde_json::json!([
            {"name": "Skills", "value": skills},
            {"name": "Team", "value": team},
        ])
        .to_string();
        let note = format!(
            "Works in {team}. Ask me about {} and {}.",
            skill(&mut rng),
            skill(&mut rng)
        );
        let id = BASE + i as i64;
        let name = format!("person{i}");
        rows.push(vec![
            V::I(id),
            V::S(name.clone()),
            V::S(name),
            V::S(format!("Person {i}")),
            V::S(note),
            V::S(fields),
            V::S(public.clone()),
            V::I(T0_MS + i as i64),
            V::I(T0_MS + i as i64),
        ]);
        for t in 0..2 {
            let tag = skill(&mut rng);
            tags.push(vec![
                V::I(id * 10 + t),
                V::I(id),
                V::S(tag.into()),
                V::S(tag.into()),
                V::I(T0_MS),
            ]);
        }
    }
    seed::bulk(
        db,
        "INSERT INTO accounts (id, username, username_key, display_name, note, fields, \
         public_key_pem, created_at, updated_at)",
        9,
        &rows,
    )
    .await?;
    // Two draws may pick one tag; the unique index keeps the first.
    let tags: Vec<Vec<V>> = {
        let mut seen = std::collections::HashSet::new();
        tags.into_iter()
            .filter(|t| match (&t[1], &t[2]) {
                (V::I(a), V::S(n)) => seen.insert((*a, n.clone())),
                _ => true,
            })
            .collect()
    };
    seed::bulk(
        db,
        "INSERT INTO featured_tags (id, account_id, name, display, created_at)",
        5,
        &tags,
    )
    .await?;
    let index = if db.is_pg() {
        "INSERT INTO account_search (account_id, doc) SELECT a.id, \
         setweight(to_tsvector('simple', a.username || ' ' || a.display_name), 'A') || \
         setweight(to_tsvector('simple', COALESCE((SELECT string_agg((f->>'name') || ' ' || \
           (f->>'value'), ' ') FROM jsonb_array_elements(a.fields::jsonb) f), '') || ' ' || \
           COALESCE((SELECT string_agg(t.display, ' ') FROM featured_tags t \
           WHERE t.account_id = a.id), '')), 'B') || \
         setweight(to_tsvector('simple', a.note), 'D') FROM accounts a WHERE a.id >= $1"
    } else {
        "INSERT INTO account_search (rowid, handle, display_name, fields, tags, note) \
         SELECT a.id, a.username, a.display_name, \
         (SELECT group_concat(json_extract(f.value, '$.name') || ' ' || \
           json_extract(f.value, '$.value'), ' ') FROM json_each(a.fields) f), \
         COALESCE((SELECT group_concat(t.display, ' ') FROM featured_tags t \
           WHERE t.account_id = a.id), ''), a.note FROM accounts a WHERE a.id >= $1"
    };
    db.exec(index, &[V::I(BASE)]).await?;
    db.exec(
        "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret, \
         created_at) VALUES (1, 'fika-bench', 'urn:ietf:wg:oauth:2.0:oob', 'read', \
         'fika-bench', 'fika-bench', $1)",
        &[V::I(T0_MS)],
    )
    .await?;
    db.exec(
        "INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at) \
         VALUES (1, $1, 1, $2, 'read', $3)",
        &[
            V::S(seed::sha256_hex(&seed::token_for(BASE))),
            V::I(BASE),
            V::I(T0_MS),
        ],
    )
    .await?;
    if db.is_pg() {
        db.exec("VACUUM ANALYZE", &[]).await?;
    } else {
        db.exec("ANALYZE", &[]).await?;
    }
    Ok(())
}

/// Runs on a fresh database at `url` (created by the caller, empty).
pub async fn run(ctx: &Ctx, name: &str, url: &str, accounts: usize) -> Result<Results> {
    let data_dir = ctx.run_dir.join(format!("{name}-data"));
    std::fs::create_dir_all(&data_dir)?;
    seed::migrate(&ctx.fika, url, &data_dir).await?;
    let db = Db::open(url, 1).await?;
    let started = Instant::now();
    seed(&db, accounts).await?;
    eprintln!(
        "  {accounts} profiles seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The baseline first, on the same database, one connection.
    let window = ctx.window(2.0);
    let warmup = ctx.window(0.5);
    let sql = raw_sql(&db);
    let mut samples = Vec::new();
    let begin = Instant::now();
    let mut i = 0usize;
    while begin.elapsed() < warmup + window {
        let word = raw_query(&db, SKILLS[i % SKILLS.len()]);
        let t = Instant::now();
        let found = db.column(sql, &[V::S(word)]).await?;
        if begin.elapsed() > warmup {
            anyhow::ensure!(!found.is_empty(), "the raw query found nothing");
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        i += 1;
    }
    let raw = Stats::from_samples(samples, 0, window.as_secs_f64());
    db.close().await;

    let port = free_port();
    let node = NodeSpec {
        bin: &ctx.fika,
        data_dir: &data_dir,
        database_url: url,
        port,
        extra: vec![],
    }
    .start(&format!("{name}.log"))
    .await?;
    let token = seed::token_for(BASE);
    let base = node.base.clone();
    let client = load::client();
    let mut hits = 0usize;
    for word in SKILLS {
        let v: serde_json::Value = client
            .get(format!("{base}/api/v2/search?type=accounts&q={word}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        hits += v["accounts"].as_array().map_or(0, Vec::len);
    }
    let request: load::RequestFn = std::sync::Arc::new(move |client, _conn, i| {
        let url = format!(
            "{base}/api/v2/search?type=accounts&q={}",
            SKILLS[i as usize % SKILLS.len()]
        );
        let token = token.clone();
        Box::pin(async move {
            match client.get(&url).bearer_auth(token).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            }
        })
    });
    let search = load::run(1, warmup, window, request).await;
    node.stop().await;
    Ok(Results {
        accounts,
        search,
        raw,
        hits: hits as f64 / SKILLS.len() as f64,
    })
}

/// A fresh, empty database for `name`: a SQLite file in the run directory, or a PostgreSQL
/// database dropped first if a previous run left it.
pub async fn fresh_database(run_dir: &Path, name: &str, postgres: Option<&str>) -> Result<String> {
    match postgres {
        None => Ok(format!(
            "sqlite://{}",
            run_dir.join(format!("{name}.db")).display()
        )),
        Some(base) => {
            let admin = Db::open(&format!("{base}/postgres"), 1).await?;
            let db = format!("fika_bench_run_{}", name.replace('-', "_"));
            admin
                .exec(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"), &[])
                .await?;
            admin.exec(&format!("CREATE DATABASE {db}"), &[]).await?;
            admin.close().await;
            Ok(format!("{base}/{db}"))
        }
    }
}
