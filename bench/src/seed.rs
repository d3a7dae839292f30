//! Deterministic seed data written straight into the node's schema (after `fika migrate`),
//! cached between runs: a SQLite file or a PostgreSQL database named after the parameters.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use sha2::Digest;

use crate::db::{Db, V};

/// Bump when the seed's contents change, so cached seeds are rebuilt.
const SEED_VERSION: u32 = 1;
/// 2026-01-01T00:00:00Z: seeded statuses are older than anything a run posts.
const T0_MS: i64 = 1_767_225_600_000;
const GAP_MS: i64 = 10_000;
pub const ACCOUNT_BASE: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct Spec {
    pub accounts: usize,
    pub statuses: usize,
    pub follows_min: usize,
    pub follows_max: usize,
    /// Accounts 0..token_users get an access token and a materialised home feed.
    pub token_users: usize,
    pub feed_cap: usize,
    pub light_follows: usize,
    pub heavy_follows: usize,
}

impl Spec {
    pub fn key(&self) -> String {
        format!(
            "v{SEED_VERSION}_a{}_s{}_f{}_{}_t{}_c{}_l{}_h{}",
            self.accounts,
            self.statuses,
            self.follows_min,
            self.follows_max,
            self.token_users,
            self.feed_cap,
            self.light_follows,
            self.heavy_follows
        )
    }
    pub fn light_account(&self) -> i64 {
        ACCOUNT_BASE + self.accounts as i64 - 2
    }
    pub fn heavy_account(&self) -> i64 {
        ACCOUNT_BASE + self.accounts as i64 - 1
    }
}

/// What a run needs to know about a seeded database.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Access tokens of the token users, in account order.
    pub tokens: Vec<String>,
    pub accounts: Vec<i64>,
    pub light_token: String,
    pub heavy_token: String,
}

pub fn token_for(account: i64) -> String {
    format!("fika-bench-token-{account}")
}

pub fn seeded(spec: &Spec) -> Seeded {
    let accounts: Vec<i64> = (0..spec.token_users as i64)
        .map(|i| ACCOUNT_BASE + i)
        .collect();
    Seeded {
        tokens: accounts.iter().map(|a| token_for(*a)).collect(),
        accounts,
        light_token: token_for(spec.light_account()),
        heavy_token: token_for(spec.heavy_account()),
    }
}

/// SplitMix64: small, fast and the same on every platform and crate version.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf-like author choice (exponent 0.8): a few accounts post most.
struct Zipf {
    cumulative: Vec<f64>,
}
impl Zipf {
    fn new(n: usize, exponent: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(exponent);
                total
            })
            .collect();
        Zipf { cumulative }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let target = rng.unit() * self.cumulative.last().copied().unwrap_or(0.0);
        self.cumulative.partition_point(|c| *c < target)
    }
}

pub fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Inserts rows with multi-row VALUES statements, `per_statement` rows each, many
/// statements per transaction.
pub async fn bulk(db: &Db, head: &str, columns: usize, rows: &[Vec<V>]) -> Result<()> {
    let per_statement = (4000 / columns).max(1);
    let mut statements = Vec::new();
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("{head} VALUES ");
        let mut binds = Vec::with_capacity(chunk.len() * columns);
        for (r, row) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..columns {
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", r * columns + c + 1));
            }
            sql.push(')');
            binds.extend(row.iter().cloned());
        }
        statements.push((sql, binds));
        if statements.len() == 50 {
            db.exec_many(std::mem::take(&mut statements)).await?;
        }
    }
    if !statements.is_empty() {
        db.exec_many(statements).await?;
    }
    Ok(())
}

async fn load(db: &Db, spec: &Spec) -> Result<()> {
    let mut rng = Rng::new(0x66_69_6b_61);
    let key = openssl::rsa::Rsa::generate(2048)?;
    let private = String::from_utf8(key.private_key_to_pem()?)?;
    let public = String::from_utf8(key.public_key_to_pem()?)?;
    let accounts: Vec<Vec<V>> = (0..spec.accounts)
        .map(|i| {
            let name = format!("user{i}");
            vec![
                V::I(ACCOUNT_BASE + i as i64),
                V::S(name.clone()),
                V::S(name.clone()),
                V::S(format!("User {i}")),
                // Seeded accounts share one key pair: generating 10^4 keys would dominate seeding.
                V::S(private.clone()),
                V::S(public.clone()),
                V::I(T0_MS),
                V::I(T0_MS),
            ]
        })
        .collect();
    bulk(
        db,
        "INSERT INTO accounts (id, username, username_key, display_name, private_key_pem, \
         public_key_pem, created_at, updated_at)",
        8,
        &accounts,
    )
    .await?;

    let mut follows = Vec::new();
    let mut next_follow = 1i64;
    for a in 0..spec.accounts {
        let me = ACCOUNT_BASE + a as i64;
        let count = if me == spec.heavy_account() {
            spec.heavy_follows
        } else if me == spec.light_account() {
            spec.light_follows
        } else {
            spec.follows_min + rng.below(spec.follows_max - spec.follows_min + 1)
        }
        .min(spec.accounts - 1);
        let mut targets = HashSet::new();
        while targets.len() < count {
            let t = rng.below(spec.accounts);
            if t != a {
                targets.insert(t);
            }
        }
        let mut targets: Vec<usize> = targets.into_iter().collect();
        targets.sort_unstable();
        for t in targets {
            follows.push(vec![
                V::I(next_follow),
                V::I(me),
                V::I(ACCOUNT_BASE + t as i64),
                V::I(T0_MS),
            ]);
            next_follow += 1;
        }
    }
    bulk(
        db,
        "INSERT INTO follows (id, account_id, target_account_id, created_at)",
        4,
        &follows,
    )
    .await?;
    drop(follows);

    let zipf = Zipf::new(spec.accounts, 0.8);
    let pad = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation.";
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..spec.statuses {
        // Spread popular ranks over the id space (7919 is prime, so this is a permutation
        // whenever the account count is not a multiple of it).
        let rank = zipf.sample(&mut rng);
        let author = ACCOUNT_BASE + ((rank * 7919) % spec.accounts) as i64;
        let created = T0_MS + i as i64 * GAP_MS;
        let text = format!("Status {i}. {pad}");
        batch.push(vec![
            V::I(created << 16),
            V::I(author),
            V::S(format!("<p>{text}</p>")),
            V::S(text),
            V::S("public".into()),
            V::I(created),
        ]);
        if batch.len() == 20_000 {
            bulk(
                db,
                "INSERT INTO statuses (id, account_id, content, text, visibility, created_at)",
                6,
                &batch,
            )
            .await?;
            batch.clear();
        }
    }
    bulk(
        db,
        "INSERT INTO statuses (id, account_id, content, text, visibility, created_at)",
        6,
        &batch,
    )
    .await?;

    db.exec(
        "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret, created_at) \
         VALUES (1, 'fika-bench', 'urn:ietf:wg:oauth:2.0:oob', 'read write follow', 'fika-bench', 'fika-bench', $1)",
        &[V::I(T0_MS)],
    )
    .await?;
    let mut token_accounts: Vec<i64> = (0..spec.token_users as i64)
        .map(|i| ACCOUNT_BASE + i)
        .collect();
    token_accounts.push(spec.light_account());
    token_accounts.push(spec.heavy_account());
    let tokens: Vec<Vec<V>> = token_accounts
        .iter()
        .map(|a| {
            vec![
                V::I(*a),
                V::S(sha256_hex(&token_for(*a))),
                V::I(*a),
                V::S("read write follow".into()),
                V::I(T0_MS),
            ]
        })
        .collect();
    let rows: Vec<Vec<V>> = tokens
        .into_iter()
        .map(|mut t| {
            t.insert(2, V::I(1));
            t
        })
        .collect();
    bulk(
        db,
        "INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at)",
        6,
        &rows,
    )
    .await?;
    // Home feeds as fan-out would have left them, newest `feed_cap` entries per user.
    let feed = format!(
        "INSERT INTO home_feed (account_id, status_id, author_id) \
         SELECT $1, s.id, s.account_id FROM follows f JOIN statuses s ON s.account_id = f.target_account_id \
         WHERE f.account_id = $1 ORDER BY s.id DESC LIMIT {}",
        spec.feed_cap
    );
    for chunk in token_accounts.chunks(50) {
        db.exec_many(
            chunk
                .iter()
                .map(|a| (feed.clone(), vec![V::I(*a)]))
                .collect(),
        )
        .await?;
    }
    db.exec("CREATE TABLE bench_seed (key TEXT NOT NULL)", &[])
        .await?;
    db.exec(
        "INSERT INTO bench_seed (key) VALUES ($1)",
        &[V::S(spec.key())],
    )
    .await?;
    if db.is_pg() {
        db.exec("VACUUM ANALYZE", &[]).await?;
    } else {
        db.exec("ANALYZE", &[]).await?;
    }
    Ok(())
}

pub enum Backend {
    Sqlite,
    Postgres { base_url: String },
}

/// A database to run on, copied from the cached seed (built first if missing).
/// Returns its URL.
pub async fn prepare(
    spec: &Spec,
    backend: &Backend,
    cache: &Path,
    run_dir: &Path,
    fika: &Path,
    run_name: &str,
) -> Result<String> {
    std::fs::create_dir_all(cache)?;
    let key = spec.key();
    match backend {
        Backend::Sqlite => {
            let seed = cache.join(format!("seed_{key}.db"));
            if !seed.exists() {
                let partial = cache.join(format!("seed_{key}.partial.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
                }
                let url = format!("sqlite://{}", partial.display());
                build(spec, &url, cache, fika).await?;
                std::fs::rename(&partial, &seed)?;
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
                }
            }
            // A seed built by an older binary gets this one's migrations once, not every run.
            migrate(fika, &format!("sqlite://{}", seed.display()), cache).await?;
            let target: PathBuf = run_dir.join(format!("{run_name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::copy(&seed, &target).context("copying the cached seed")?;
            Ok(format!("sqlite://{}", target.display()))
        }
        Backend::Postgres { base_url } => {
            let admin = Db::open(&format!("{base_url}/postgres"), 1).await?;
            let seed_name = format!("fika_bench_{}", key.to_lowercase());
            let exists = admin
                .scalar(
                    "SELECT COUNT(*) FROM pg_database WHERE datname = $1",
                    &[V::S(seed_name.clone())],
                )
                .await?
                > 0;
            let complete = exists && {
                let seed_db = Db::open(&format!("{base_url}/{seed_name}"), 1).await?;
                let ok = seed_db.table_exists("bench_seed").await;
                seed_db.close().await;
                ok
            };
            if !complete {
                admin
                    .exec(
                        &format!("DROP DATABASE IF EXISTS {seed_name} WITH (FORCE)"),
                        &[],
                    )
                    .await?;
                admin
                    .exec(&format!("CREATE DATABASE {seed_name}"), &[])
                    .await?;
                build(spec, &format!("{base_url}/{seed_name}"), cache, fika).await?;
            }
            migrate(fika, &format!("{base_url}/{seed_name}"), cache).await?;
            let run = format!("fika_bench_run_{}", run_name.replace('-', "_"));
            admin
                .exec(&format!("DROP DATABASE IF EXISTS {run} WITH (FORCE)"), &[])
                .await?;
            admin
                .exec(&format!("CREATE DATABASE {run} TEMPLATE {seed_name}"), &[])
                .await?;
            admin.close().await;
            Ok(format!("{base_url}/{run}"))
        }
    }
}

pub async fn migrate(fika: &Path, url: &str, cache: &Path) -> Result<()> {
    let data_dir = cache.join("seed-data");
    std::fs::create_dir_all(&data_dir)?;
    let env = vec![
        ("FIKA_DATA_DIR".to_string(), data_dir.display().to_string()),
        ("FIKA_DATABASE_URL".to_string(), url.to_string()),
    ];
    crate::procs::fika_cli(fika, &env, &["migrate"], None).await?;
    Ok(())
}

async fn build(spec: &Spec, url: &str, cache: &Path, fika: &Path) -> Result<()> {
    let started = Instant::now();
    eprintln!(
        "  seeding {} (first run only; cached in {})",
        spec.key(),
        cache.display()
    );
    migrate(fika, url, cache).await?;
    let db = Db::open(url, 1).await?;
    load(&db, spec)
        .await
        .with_context(|| format!("seeding {url}"))?;
    db.close().await;
    eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(1000, 0.8);
        let mut rng = Rng::new(1);
        let picks: Vec<usize> = (0..10_000).map(|_| z.sample(&mut rng)).collect();
        let top = picks.iter().filter(|r| **r < 10).count();
        let bottom = picks.iter().filter(|r| **r >= 990).count();
        assert!(top > 5 * bottom.max(1), "top {top} bottom {bottom}");
        assert!(picks.iter().all(|r| *r < 1000));
    }
}
