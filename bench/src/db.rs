//! Direct database access for seeding and for the raw-SQL baselines, on either backend.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Result;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Postgres, Sqlite};

#[derive(Clone)]
pub enum Db {
    Sqlite(Pool<Sqlite>),
    Pg(Pool<Postgres>),
}

#[derive(Clone, Debug)]
pub enum V {
    I(i64),
    S(String),
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                V::I(v) => q.bind(*v),
                V::S(v) => q.bind(v.as_str()),
            };
        }
        q
    }};
}

impl Db {
    /// Opens `url` with the node's own SQLite settings (WAL, synchronous=NORMAL).
    pub async fn open(url: &str, connections: u32) -> Result<Db> {
        Ok(if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30));
            Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(connections)
                    .connect_with(options)
                    .await?,
            )
        } else {
            let options = PgConnectOptions::from_str(url)?;
            Db::Pg(
                PgPoolOptions::new()
                    .max_connections(connections)
                    .connect_with(options)
                    .await?,
            )
        })
    }

    pub fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    pub async fn exec(&self, sql: &str, binds: &[V]) -> Result<u64> {
        Ok(match self {
            Db::Sqlite(p) => bind_all!(sqlx::query(sql), binds)
                .execute(p)
                .await?
                .rows_affected(),
            Db::Pg(p) => bind_all!(sqlx::query(sql), binds)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    /// Runs statements in one transaction.
    pub async fn exec_many(&self, statements: Vec<(String, Vec<V>)>) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for (sql, binds) in &statements {
                    bind_all!(sqlx::query(sql), binds).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Db::Pg(p) => {
                let mut tx = p.begin().await?;
                for (sql, binds) in &statements {
                    bind_all!(sqlx::query(sql), binds).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn scalar(&self, sql: &str, binds: &[V]) -> Result<i64> {
        Ok(match self {
            Db::Sqlite(p) => {
                bind_all!(sqlx::query_scalar::<_, i64>(sql), binds)
                    .fetch_one(p)
                    .await?
            }
            Db::Pg(p) => {
                bind_all!(sqlx::query_scalar::<_, i64>(sql), binds)
                    .fetch_one(p)
                    .await?
            }
        })
    }

    pub async fn column(&self, sql: &str, binds: &[V]) -> Result<Vec<i64>> {
        Ok(match self {
            Db::Sqlite(p) => {
                bind_all!(sqlx::query_scalar::<_, i64>(sql), binds)
                    .fetch_all(p)
                    .await?
            }
            Db::Pg(p) => {
                bind_all!(sqlx::query_scalar::<_, i64>(sql), binds)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    pub async fn strings(&self, sql: &str, binds: &[V]) -> Result<Vec<String>> {
        Ok(match self {
            Db::Sqlite(p) => {
                bind_all!(sqlx::query_scalar::<_, String>(sql), binds)
                    .fetch_all(p)
                    .await?
            }
            Db::Pg(p) => {
                bind_all!(sqlx::query_scalar::<_, String>(sql), binds)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// Fetches every row (all columns) and returns how many: the cost of a query as the node
    /// would pay it, without decoding into our types.
    pub async fn rows(&self, sql: &str, binds: &[V]) -> Result<usize> {
        Ok(match self {
            Db::Sqlite(p) => bind_all!(sqlx::query(sql), binds).fetch_all(p).await?.len(),
            Db::Pg(p) => bind_all!(sqlx::query(sql), binds).fetch_all(p).await?.len(),
        })
    }

    pub async fn table_exists(&self, table: &str) -> bool {
        let sql = match self {
            Db::Sqlite(_) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Db::Pg(_) => "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = $1",
        };
        self.scalar(sql, &[V::S(table.into())]).await.unwrap_or(0) > 0
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => {
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(p)
                    .await;
                p.close().await
            }
            Db::Pg(p) => p.close().await,
        }
    }
}

/// The node's home timeline query shape, run directly: one page of the materialised feed
/// joined to the statuses. Latencies in milliseconds over `window`, users round-robin.
pub async fn push_query_latency(
    db: &Db,
    users: &[i64],
    window: Duration,
) -> Result<crate::load::Stats> {
    let sql = "SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id \
               WHERE h.account_id = $1 ORDER BY h.status_id DESC LIMIT 20";
    // Warm the cache and the connection first.
    for u in users.iter().take(200) {
        db.rows(sql, &[V::I(*u)]).await?;
    }
    let mut ms = Vec::new();
    let start = Instant::now();
    let mut i = 0usize;
    while start.elapsed() < window {
        let t = Instant::now();
        db.rows(sql, &[V::I(users[(i * 7919) % users.len()])])
            .await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        i += 1;
    }
    Ok(crate::load::Stats::from_samples(
        ms,
        0,
        start.elapsed().as_secs_f64(),
    ))
}

/// Bare insert rate: one status-sized row per transaction into a scratch table, `conns`
/// writers. Rows per second.
pub async fn bare_insert_rate(db: &Db, conns: usize, window: Duration) -> Result<f64> {
    db.exec("DROP TABLE IF EXISTS bench_insert", &[]).await?;
    db.exec(
        "CREATE TABLE bench_insert (id BIGINT PRIMARY KEY NOT NULL, account_id BIGINT NOT NULL, \
         content TEXT NOT NULL, visibility TEXT NOT NULL, created_at BIGINT NOT NULL)",
        &[],
    )
    .await?;
    db.exec(
        "CREATE INDEX bench_insert_account ON bench_insert (account_id, id)",
        &[],
    )
    .await?;
    let content = "x".repeat(200);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (db, content) = (db.clone(), content.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0i64;
            while start.elapsed() < window {
                let id = (c as i64) << 40 | n;
                db.exec_many(vec![(
                    "INSERT INTO bench_insert (id, account_id, content, visibility, created_at) \
                     VALUES ($1, $2, $3, 'public', $4)"
                        .into(),
                    vec![V::I(id), V::I(n % 1000), V::S(content.clone()), V::I(n)],
                )])
                .await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    db.exec("DROP TABLE bench_insert", &[]).await?;
    Ok(rate)
}

/// `EXPLAIN QUERY PLAN` and one timed run of `sql` on a SQLite database.
pub async fn explain(url: &str, sql: &str, binds: &[i64]) -> Result<()> {
    use sqlx::Row;
    let Db::Sqlite(pool) = Db::open(url, 1).await? else {
        anyhow::bail!("explain works on SQLite databases only");
    };
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await?;
    println!("SQLite {version}");
    let plan = format!("EXPLAIN QUERY PLAN {sql}");
    let mut q = sqlx::query(&plan);
    for b in binds {
        q = q.bind(*b);
    }
    for row in q.fetch_all(&pool).await? {
        let detail: String = row.try_get(3)?;
        println!("  {detail}");
    }
    let binds: Vec<V> = binds.iter().map(|b| V::I(*b)).collect();
    let db = Db::Sqlite(pool);
    for _ in 0..3 {
        let t = Instant::now();
        let n = db.rows(sql, &binds).await?;
        println!("{n} rows in {:.3} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}
