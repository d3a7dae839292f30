//! Insights: the days local accounts were active, interactions between this node's users and
//! other nodes' users counted per week, weekly figures and peers' aggregates, and the daily
//! series, breakdowns and cohorts of the Mastodon admin dashboard API.
//!
//! Time ranges over statuses, favourites and follows are id ranges: ids are time-ordered
//! (`crate::ids`), so a week is one primary-key range scan whatever the size of the node.

use super::{on_pool, on_writer, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// Every interaction in an id range as (actor, target) account ids: replies, mentions other
/// than of the replied-to author, boosts, favourites and follows made in the range.
const INTERACTIONS: &str = "\
    SELECT s.account_id AS actor, s.in_reply_to_account_id AS target FROM statuses s \
        WHERE s.id >= $1 AND s.id < $2 AND s.in_reply_to_account_id IS NOT NULL AND s.reblog_of_id IS NULL \
    UNION ALL SELECT s.account_id, m.account_id FROM statuses s JOIN mentions m ON m.status_id = s.id \
        WHERE s.id >= $1 AND s.id < $2 AND s.reblog_of_id IS NULL \
        AND (s.in_reply_to_account_id IS NULL OR m.account_id <> s.in_reply_to_account_id) \
    UNION ALL SELECT s.account_id, o.account_id FROM statuses s JOIN statuses o ON o.id = s.reblog_of_id \
        WHERE s.id >= $1 AND s.id < $2 AND s.reblog_of_id IS NOT NULL \
    UNION ALL SELECT f.account_id, o.account_id FROM favourites f JOIN statuses o ON o.id = f.status_id \
        WHERE f.id >= $1 AND f.id < $2 \
    UNION ALL SELECT f.account_id, f.target_account_id FROM follows f WHERE f.id >= $1 AND f.id < $2";

/// Between people (groups and node actors are not people), one side of them ours.
const PEOPLE: &str = "i.actor <> i.target AND NOT a.is_group AND NOT t.is_group \
                      AND NOT a.bot AND NOT t.bot \
                      AND (a.domain = '' OR t.domain = '')";

/// A daily series the dashboard asks for, with its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Series {
    ActiveUsers,
    NewUsers,
    /// Favourites, boosts and replies on local statuses.
    Interactions,
    TagAccounts(i64),
    TagUses(i64),
    TagServers(i64),
    InstanceAccounts(String),
    InstanceStatuses(String),
    InstanceFollows(String),
    InstanceFollowers(String),
    /// Bytes.
    InstanceMedia(String),
}

/// A breakdown the dashboard asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breakdown {
    Languages,
    Sources,
    Servers,
    TagServers(i64),
    TagLanguages(i64),
    InstanceAccounts(String),
    InstanceLanguages(String),
}

/// What a statement is bound to, in order (`$1`, `$2`, ...).
enum Bind {
    Int(i64),
    Text(String),
}

/// The range of a series or breakdown: milliseconds, and the ids and days they span.
struct Range {
    from: i64,
    to: i64,
}

impl Range {
    fn ids(&self) -> [Bind; 2] {
        [
            Bind::Int(crate::ids::id_floor_for_millis(self.from)),
            Bind::Int(crate::ids::id_floor_for_millis(self.to)),
        ]
    }
    fn millis(&self) -> [Bind; 2] {
        [Bind::Int(self.from), Bind::Int(self.to)]
    }
    fn days(&self) -> [Bind; 2] {
        [
            Bind::Int(self.from.div_euclid(DAY_MS)),
            Bind::Int(self.to.div_euclid(DAY_MS)),
        ]
    }
}

/// Favourites, boosts and replies (by others) on local statuses in the id range `$1`..`$2`:
/// one row per interaction with its day.
const LOCAL_INTERACTIONS: &str = "\
    SELECT f.created_at / 86400000 AS day FROM favourites f JOIN statuses o ON o.id = f.status_id \
      JOIN accounts a ON a.id = o.account_id WHERE a.domain = '' AND f.id >= $1 AND f.id < $2 \
    UNION ALL SELECT s.created_at / 86400000 FROM statuses s JOIN statuses o ON o.id = s.reblog_of_id \
      JOIN accounts a ON a.id = o.account_id WHERE a.domain = '' AND s.id >= $1 AND s.id < $2 \
    UNION ALL SELECT s.created_at / 86400000 FROM statuses s JOIN accounts a ON a.id = s.in_reply_to_account_id \
      WHERE a.domain = '' AND s.account_id <> s.in_reply_to_account_id AND s.reblog_of_id IS NULL \
      AND s.id >= $1 AND s.id < $2";

impl Series {
    /// The rows counted, as `SELECT day, counted FROM ...` (with `counted` what COUNT or SUM
    /// takes), whether the value is a sum (bytes) or a count of distinct values, and the binds.
    fn sql(&self, range: &Range) -> (String, Aggregate, Vec<Bind>) {
        let with = |binds: [Bind; 2], extra: Option<Bind>| -> Vec<Bind> {
            let mut v: Vec<Bind> = binds.into_iter().collect();
            v.extend(extra);
            v
        };
        match self {
            Series::ActiveUsers => (
                "SELECT day, account_id AS counted FROM account_activity WHERE day >= $1 AND day < $2".into(),
                Aggregate::Distinct,
                with(range.days(), None),
            ),
            Series::NewUsers => (
                "SELECT created_at / 86400000 AS day, id AS counted FROM accounts WHERE domain = '' AND NOT is_group \
                 AND NOT bot AND created_at >= $1 AND created_at < $2"
                    .into(),
                Aggregate::Count,
                with(range.millis(), None),
            ),
            Series::Interactions => (
                format!("SELECT day, 1 AS counted FROM ({LOCAL_INTERACTIONS}) x"),
                Aggregate::Count,
                with(range.ids(), None),
            ),
            Series::TagAccounts(id) | Series::TagUses(id) | Series::TagServers(id) => {
                let (counted, aggregate) = match self {
                    Series::TagAccounts(_) => ("s.account_id", Aggregate::Distinct),
                    Series::TagUses(_) => ("s.id", Aggregate::Count),
                    _ => ("a.domain", Aggregate::Distinct),
                };
                let remote = if matches!(self, Series::TagServers(_)) {
                    " AND a.domain <> ''"
                } else {
                    ""
                };
                (
                    format!(
                        "SELECT s.created_at / 86400000 AS day, {counted} AS counted FROM status_tags st \
                         JOIN statuses s ON s.id = st.status_id JOIN accounts a ON a.id = s.account_id \
                         WHERE s.id >= $1 AND s.id < $2 AND st.tag_id = $3{remote}"
                    ),
                    aggregate,
                    with(range.ids(), Some(Bind::Int(*id))),
                )
            }
            Series::InstanceAccounts(domain) => (
                "SELECT created_at / 86400000 AS day, id AS counted FROM accounts \
                 WHERE created_at >= $1 AND created_at < $2 AND domain = $3"
                    .into(),
                Aggregate::Count,
                with(range.millis(), Some(Bind::Text(domain.clone()))),
            ),
            Series::InstanceStatuses(domain) => (
                "SELECT s.created_at / 86400000 AS day, s.id AS counted FROM statuses s \
                 JOIN accounts a ON a.id = s.account_id WHERE s.id >= $1 AND s.id < $2 AND a.domain = $3"
                    .into(),
                Aggregate::Count,
                with(range.ids(), Some(Bind::Text(domain.clone()))),
            ),
            Series::InstanceFollows(domain) | Series::InstanceFollowers(domain) => {
                let (ours, theirs) = match self {
                    Series::InstanceFollows(_) => ("f.account_id", "f.target_account_id"),
                    _ => ("f.target_account_id", "f.account_id"),
                };
                (
                    format!(
                        "SELECT f.created_at / 86400000 AS day, f.id AS counted FROM follows f \
                         JOIN accounts l ON l.id = {ours} JOIN accounts r ON r.id = {theirs} \
                         WHERE f.id >= $1 AND f.id < $2 AND l.domain = '' AND r.domain = $3"
                    ),
                    Aggregate::Count,
                    with(range.ids(), Some(Bind::Text(domain.clone()))),
                )
            }
            Series::InstanceMedia(domain) => (
                "SELECT m.created_at / 86400000 AS day, m.size AS counted FROM media m \
                 JOIN accounts a ON a.id = m.account_id WHERE m.created_at >= $1 AND m.created_at < $2 AND a.domain = $3"
                    .into(),
                Aggregate::Sum,
                with(range.millis(), Some(Bind::Text(domain.clone()))),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Aggregate {
    Count,
    Distinct,
    Sum,
}

impl Aggregate {
    fn of(self, column: &str) -> String {
        match self {
            Aggregate::Count => format!("COUNT({column})"),
            Aggregate::Distinct => format!("COUNT(DISTINCT {column})"),
            Aggregate::Sum => format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"),
        }
    }
}

impl Breakdown {
    /// `SELECT key, COUNT(*) ... GROUP BY key` over the id range `$1`..`$2`, and the binds.
    fn sql(&self, range: &Range) -> (&'static str, Vec<Bind>) {
        let mut binds: Vec<Bind> = range.ids().into_iter().collect();
        let sql = match self {
            Breakdown::Languages => {
                "SELECT COALESCE(s.language, '') AS k, COUNT(*) AS n FROM statuses s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.id >= $1 AND s.id < $2 AND a.domain = '' AND s.reblog_of_id IS NULL GROUP BY COALESCE(s.language, '')"
            }
            Breakdown::Sources => {
                "SELECT COALESCE(s.app_name, '') AS k, COUNT(*) AS n FROM statuses s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.id >= $1 AND s.id < $2 AND a.domain = '' AND s.reblog_of_id IS NULL GROUP BY COALESCE(s.app_name, '')"
            }
            Breakdown::Servers => {
                "SELECT a.domain AS k, COUNT(*) AS n FROM statuses s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.id >= $1 AND s.id < $2 AND a.domain <> '' GROUP BY a.domain"
            }
            Breakdown::TagServers(id) => {
                binds.push(Bind::Int(*id));
                "SELECT a.domain AS k, COUNT(*) AS n FROM status_tags st JOIN statuses s ON s.id = st.status_id \
                 JOIN accounts a ON a.id = s.account_id WHERE s.id >= $1 AND s.id < $2 AND st.tag_id = $3 GROUP BY a.domain"
            }
            Breakdown::TagLanguages(id) => {
                binds.push(Bind::Int(*id));
                "SELECT COALESCE(s.language, '') AS k, COUNT(*) AS n FROM status_tags st JOIN statuses s ON s.id = st.status_id \
                 WHERE s.id >= $1 AND s.id < $2 AND st.tag_id = $3 GROUP BY COALESCE(s.language, '')"
            }
            Breakdown::InstanceAccounts(domain) => {
                // Most followed by local people, whenever they followed.
                binds = vec![Bind::Text(domain.clone())];
                "SELECT r.username AS k, COUNT(*) AS n FROM follows f JOIN accounts r ON r.id = f.target_account_id \
                 JOIN accounts l ON l.id = f.account_id WHERE r.domain = $1 AND l.domain = '' GROUP BY r.username"
            }
            Breakdown::InstanceLanguages(domain) => {
                binds.push(Bind::Text(domain.clone()));
                "SELECT COALESCE(s.language, '') AS k, COUNT(*) AS n FROM statuses s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.id >= $1 AND s.id < $2 AND a.domain = $3 GROUP BY COALESCE(s.language, '')"
            }
        };
        (sql, binds)
    }
}

/// A group hosted here and how many of its members are on one node (`''`: this one).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupSpan {
    pub group_id: i64,
    pub username: String,
    pub display_name: String,
    pub domain: String,
    pub members: i64,
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Int(i) => q.bind(*i),
                Bind::Text(t) => q.bind(t.clone()),
            };
        }
        q
    }};
}

impl Store {
    /// Notes that a local account used the node on `day` (days since the epoch).
    pub async fn record_activity(&self, account: i64, day: i64) -> Result<(), StoreError> {
        let sql =
            "INSERT INTO account_activity (day, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(day)
            .bind(account)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Interactions between people in the id range with one side local, per (actor's domain,
    /// target's domain); `''` is this node.
    pub async fn interaction_pairs(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = format!(
            "SELECT a.domain, t.domain, COUNT(*) FROM ({INTERACTIONS}) i \
             JOIN accounts a ON a.id = i.actor JOIN accounts t ON t.id = i.target \
             WHERE {PEOPLE} GROUP BY a.domain, t.domain"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (String, String, i64),
        >(&sql)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await)?)
    }

    /// Local accounts active on a day in [`from_day`, `to_day`) with at least one interaction
    /// with someone on another node in the id range (either way).
    pub async fn cross_node_active(
        &self,
        lo: i64,
        hi: i64,
        from_day: i64,
        to_day: i64,
    ) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT CASE WHEN a.domain = '' THEN a.id ELSE t.id END AS local_id \
             FROM ({INTERACTIONS}) i JOIN accounts a ON a.id = i.actor JOIN accounts t ON t.id = i.target \
             WHERE {PEOPLE} AND (a.domain = '' AND t.domain <> '' OR a.domain <> '' AND t.domain = '')) x \
             WHERE EXISTS (SELECT 1 FROM account_activity aa WHERE aa.account_id = x.local_id \
             AND aa.day >= $3 AND aa.day < $4)"
        );
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .bind(lo)
            .bind(hi)
            .bind(from_day)
            .bind(to_day)
            .fetch_one(pool)
            .await)?)
    }

    /// Distinct local accounts active on a day in [`from_day`, `to_day`).
    pub async fn active_accounts(&self, from_day: i64, to_day: i64) -> Result<i64, StoreError> {
        let sql =
            "SELECT COUNT(DISTINCT account_id) FROM account_activity WHERE day >= $1 AND day < $2";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(from_day)
            .bind(to_day)
            .fetch_one(pool)
            .await)?)
    }

    /// Hashtags on public and unlisted statuses of local people in the id range: (name,
    /// statuses, accounts), most used first.
    pub async fn hashtag_use(
        &self,
        lo: i64,
        hi: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let sql = "SELECT t.name, COUNT(*), COUNT(DISTINCT s.account_id) FROM statuses s \
                   JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id \
                   JOIN accounts a ON a.id = s.account_id \
                   WHERE s.id >= $1 AND s.id < $2 AND a.domain = '' AND NOT a.is_group \
                   AND s.reblog_of_id IS NULL AND s.visibility IN ('public', 'unlisted') \
                   GROUP BY t.name ORDER BY COUNT(*) DESC, t.name LIMIT $3";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (String, i64, i64),
        >(sql)
        .bind(lo)
        .bind(hi)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Members of the groups hosted here, per group and node.
    pub async fn group_spans(&self) -> Result<Vec<GroupSpan>, StoreError> {
        let sql =
            "SELECT g.id AS group_id, g.username, g.display_name, r.domain, COUNT(*) AS members \
                   FROM accounts g JOIN follows f ON f.target_account_id = g.id \
                   JOIN accounts r ON r.id = f.account_id \
                   WHERE g.domain = '' AND g.is_group AND NOT r.is_group \
                   GROUP BY g.id, g.username, g.display_name, r.domain ORDER BY g.id, r.domain";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, GroupSpan>(sql)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn save_insight_week(&self, week: i64, figures: &str) -> Result<(), StoreError> {
        let sql = "INSERT INTO insight_weeks (week, figures, computed_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (week) DO UPDATE SET figures = excluded.figures, computed_at = excluded.computed_at";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(week)
            .bind(figures)
            .bind(super::now_millis())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// This node's weeks from `since` on: (week, figures JSON, computed at).
    pub async fn insight_weeks(&self, since: i64) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let sql =
            "SELECT week, figures, computed_at FROM insight_weeks WHERE week >= $1 ORDER BY week";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (i64, String, i64),
        >(sql)
        .bind(since)
        .fetch_all(pool)
        .await)?)
    }

    pub async fn save_insight_report(
        &self,
        peer: &str,
        week: i64,
        report: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO insight_reports (peer, week, report, received_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (peer, week) DO UPDATE SET report = excluded.report, received_at = excluded.received_at";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(peer)
            .bind(week)
            .bind(report)
            .bind(super::now_millis())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Peers' aggregates from `since` on: (peer, week, document JSON).
    pub async fn insight_reports(
        &self,
        since: i64,
    ) -> Result<Vec<(String, i64, String)>, StoreError> {
        let sql =
            "SELECT peer, week, report FROM insight_reports WHERE week >= $1 ORDER BY week, peer";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (String, i64, String),
        >(sql)
        .bind(since)
        .fetch_all(pool)
        .await)?)
    }

    /// Digests of what was last shared, per (peer, week), from `since` on.
    pub async fn insight_sends(
        &self,
        since: i64,
    ) -> Result<Vec<(String, i64, String)>, StoreError> {
        let sql = "SELECT peer, week, digest FROM insight_sends WHERE week >= $1";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (String, i64, String),
        >(sql)
        .bind(since)
        .fetch_all(pool)
        .await)?)
    }

    pub async fn record_insight_send(
        &self,
        peer: &str,
        week: i64,
        digest: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO insight_sends (peer, week, digest, sent_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (peer, week) DO UPDATE SET digest = excluded.digest, sent_at = excluded.sent_at";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(peer)
            .bind(week)
            .bind(digest)
            .bind(super::now_millis())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A daily series over [`from`, `to`) (milliseconds): (day, value) for the days with any,
    /// and the range's total (distinct over the whole range where the series counts accounts
    /// or servers).
    pub async fn series(
        &self,
        series: &Series,
        from: i64,
        to: i64,
    ) -> Result<(Vec<(i64, i64)>, i64), StoreError> {
        let (rows, aggregate, binds) = series.sql(&Range { from, to });
        let daily = format!(
            "SELECT day, {} FROM ({rows}) r GROUP BY day ORDER BY day",
            aggregate.of("counted")
        );
        let total = format!("SELECT {} FROM ({rows}) r", aggregate.of("counted"));
        // A count's or sum's total is the sum of its days: one pass. Distinct values (accounts,
        // servers) over the range are not, so they take a second.
        let distinct = matches!(aggregate, Aggregate::Distinct);
        Ok(on_pool!(self, |pool| {
            let days = bind_all!(sqlx::query_as::<_, (i64, i64)>(&daily), &binds)
                .fetch_all(pool)
                .await?;
            let sum = if distinct {
                bind_all!(sqlx::query_scalar::<_, i64>(&total), &binds)
                    .fetch_one(pool)
                    .await?
            } else {
                days.iter().map(|(_, n)| n).sum()
            };
            Ok::<_, sqlx::Error>((days, sum))
        })?)
    }

    /// A breakdown over [`from`, `to`): (key, value), largest first, at most `limit`.
    pub async fn breakdown(
        &self,
        breakdown: &Breakdown,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (rows, binds) = breakdown.sql(&Range { from, to });
        let sql = format!(
            "SELECT k, n FROM ({rows}) r ORDER BY n DESC, k LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(on_pool!(self, |pool| bind_all!(
            sqlx::query_as::<_, (String, i64)>(&sql),
            &binds
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Bytes: (database, media files).
    pub async fn space_usage(&self) -> Result<(i64, i64), StoreError> {
        let media = "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM media";
        let (db, media) = match &self.pool {
            super::Pool::Sqlite(pool) => (
                sqlx::query_scalar::<_, i64>(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(pool)
                .await?,
                sqlx::query_scalar::<_, i64>(media).fetch_one(pool).await?,
            ),
            super::Pool::Postgres(pool) => (
                sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await?,
                sqlx::query_scalar::<_, i64>(media).fetch_one(pool).await?,
            ),
        };
        Ok((db, media))
    }

    /// The database engine's name and version.
    pub async fn engine_version(&self) -> Result<(&'static str, String), StoreError> {
        Ok(match &self.pool {
            super::Pool::Sqlite(pool) => (
                "sqlite",
                sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                    .fetch_one(pool)
                    .await?,
            ),
            super::Pool::Postgres(pool) => (
                "postgresql",
                sqlx::query_scalar::<_, String>("SELECT current_setting('server_version')")
                    .fetch_one(pool)
                    .await?,
            ),
        })
    }

    /// Local people who joined in [`from`, `to`) and the days they were active from `from` on:
    /// (account, joined at, active day or none).
    pub async fn cohort_activity(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, Option<i64>)>, StoreError> {
        let sql = "SELECT a.id, a.created_at, aa.day FROM accounts a \
                   LEFT JOIN account_activity aa ON aa.account_id = a.id AND aa.day >= $3 \
                   WHERE a.domain = '' AND NOT a.is_group AND NOT a.bot \
                   AND a.created_at >= $1 AND a.created_at < $2";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (i64, i64, Option<i64>),
        >(sql)
        .bind(from)
        .bind(to)
        .bind(from.div_euclid(DAY_MS))
        .fetch_all(pool)
        .await)?)
    }

    /// Hashtags most used since `since` (milliseconds): (id, display), at most `limit`.
    pub async fn trending_tags(
        &self,
        since: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let sql = "SELECT t.id, t.display FROM status_tags st JOIN statuses s ON s.id = st.status_id \
                   JOIN tags t ON t.id = st.tag_id WHERE s.id >= $1 AND s.visibility = 'public' \
                   GROUP BY t.id, t.display ORDER BY COUNT(DISTINCT s.account_id) DESC, COUNT(*) DESC, t.id LIMIT $2";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, (i64, String)>(
            sql
        )
        .bind(crate::ids::id_floor_for_millis(since))
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Public statuses with the most favourites and boosts since `since`, at most `limit`.
    pub async fn trending_status_ids(
        &self,
        since: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT x.status_id FROM (\
                   SELECT f.status_id FROM favourites f WHERE f.id >= $1 \
                   UNION ALL SELECT s.reblog_of_id FROM statuses s WHERE s.id >= $1 AND s.reblog_of_id IS NOT NULL) x \
                   JOIN statuses o ON o.id = x.status_id WHERE o.visibility = 'public' \
                   GROUP BY x.status_id ORDER BY COUNT(*) DESC, x.status_id DESC LIMIT $2";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(crate::ids::id_floor_for_millis(since))
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }
}
