//! Storage: one module per aggregate, portable SQL (`$n` placeholders work on both engines),
//! and the backend chosen by the database URL.

pub mod accounts;
pub mod announcements;
pub mod backfill;
pub mod blocks;
pub mod console;
pub mod conversations;
pub mod deliveries;
pub mod directory;
pub mod fanout;
pub mod federation;
pub mod filters;
pub mod groups;
pub mod hidden;
pub mod identities;
pub mod inbox;
pub mod insights;
pub mod lists;
pub mod media;
pub mod notification_policy;
pub mod oauth;
pub mod pins;
pub mod policy;
pub mod polls;
pub mod profile_index;
pub mod push;
pub mod reports;
pub mod scheduled;
pub mod social;
pub mod statuses;
pub mod suggestions;
pub mod tags;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::{Backend, Config};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database has migration {0} which this fika does not know: it was used by a newer \
         version of fika. Run that version (or restore a backup taken before the upgrade)"
    )]
    NewerSchema(i64),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps unique-constraint violations to [`StoreError::Conflict`] naming `what`.
    pub(crate) fn conflict_as(e: sqlx::Error, what: &'static str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever backend pool the store has. The body is
/// compiled once per backend, so the same portable query serves both without the `Any` driver's
/// conversions.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// [`on_pool!`] for a single write statement outside a transaction: on SQLite it queues on the
/// writer lock like [`in_tx!`], so frequent small writes (the delivery queue, the inbox's seen
/// ids) do not keep a transaction waiting in SQLite's busy handler.
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => {
                let _writer = $store.writer.lock().await;
                $body
            }
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_writer;

#[derive(Clone, Debug)]
pub struct Store {
    pub pool: Pool,
    /// SQLite allows one writer at a time; writers queue here (first come, first served)
    /// instead of in SQLite's busy handler, which sleeps in steps of up to 100 ms and made
    /// concurrent posting slow and jittery.
    pub writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating a SQLite file if needed) without touching the schema.
    pub async fn connect(config: &Config) -> Result<Store, StoreError> {
        let url = config.database_url();
        let max = config.database.max_connections;
        let pool = match config
            .backend()
            .map_err(|e| StoreError::Connect(sqlx::Error::Configuration(e.to_string().into())))?
        {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&url)
                    .map_err(StoreError::Connect)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                if let Some(dir) = options.get_filename().parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Connect(sqlx::Error::Io(std::io::Error::new(
                                e.kind(),
                                format!("creating {}: {e}", dir.display()),
                            )))
                        })?;
                    }
                }
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_with(options)
                        .await
                        .map_err(StoreError::Connect)?,
                )
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(&url).map_err(StoreError::Connect)?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_with(options)
                        .await
                        .map_err(StoreError::Connect)?,
                )
            }
        };
        Ok(Store {
            pool,
            writer: Default::default(),
        })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; refuses a database migrated by a newer fika.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = on_pool!(self, |pool| self.migrator().run(pool).await);
        match result {
            Ok(()) => Ok(()),
            Err(sqlx::migrate::MigrateError::VersionMissing(v)) => Err(StoreError::NewerSchema(v)),
            Err(e) => Err(e.into()),
        }
    }

    /// The newest schema version this binary knows.
    pub fn latest_known_migration(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest migration applied to the database, if any.
    pub async fn applied_migration(&self) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        let version: Option<i64> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await)?;
        Ok(version)
    }

    /// `VACUUM INTO`: a consistent copy of a SQLite database, taken while it is in use.
    pub async fn vacuum_into(&self, path: &str) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let sql = format!("VACUUM INTO '{path}'");
                sqlx::query(&sql).execute(pool).await?;
                Ok(())
            }
            Pool::Postgres(_) => Err(StoreError::Corrupt("VACUUM INTO is SQLite only".into())),
        }
    }

    /// Has this database been used by fika (migrations table present)?
    pub async fn has_schema(&self) -> Result<bool, StoreError> {
        let found: Option<String> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_optional(pool)
            .await?,
            Pool::Postgres(pool) => sqlx::query_scalar(
                "SELECT table_name::TEXT FROM information_schema.tables WHERE table_name = '_sqlx_migrations'",
            )
            .fetch_optional(pool)
            .await?,
        };
        Ok(found.is_some())
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// Milliseconds since the Unix epoch: the one timestamp form both backends store.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `$start, $start+1, ...` for `n` values, for `IN (...)` lists.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Runs `$body` inside a transaction on whichever backend the store has, with `$tx` the
/// connection to run queries on (`&mut *$tx`). An early return (`?`) rolls back. SQLite takes
/// the write lock up front so two writers queue on the busy timeout instead of failing.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite(pool) => {
                let _writer = $store.writer.lock().await;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::store::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}
pub(crate) use in_tx;
