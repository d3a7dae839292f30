//! `fika-bench`: measures a release build of the node against limits measured in the same
//! run on the same machine, and reports every figure as a ratio to its baseline.
//! See BENCHMARKS.md for the method and the latest results.

mod calibrate;
mod client_api;
mod db;
mod directory;
mod federation;
mod insights;
mod load;
mod procs;
mod report;
mod seed;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;

use report::{mib, ms, per_s, Report};

#[derive(Parser)]
#[command(
    name = "fika-bench",
    about = "Benchmark a fika node against this machine's own limits"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Tiny data and short windows: checks that the benchmark still works (the test suite
    /// runs this); fails only on wrong results, never on slow ones.
    #[arg(long)]
    smoke: bool,
    /// The `fika` binary to measure (default: the one next to this program).
    #[arg(long)]
    fika: Option<PathBuf>,
    /// Where seed databases are kept between runs.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Where the JSON results go.
    #[arg(long, default_value = "bench-results.json")]
    json: PathBuf,
    /// PostgreSQL server for the PostgreSQL half ("none" to skip it).
    #[arg(
        long,
        env = "FIKA_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// Skip phases: any of client, directory, postgres, federation, footprint, org, group,
    /// announce, insights.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// The hello-world baseline server (started by the benchmark itself).
    #[command(hide = true)]
    Hello { listen: String },
    /// Prints SQLite's plan for a query, with the SQLite the node is built with (which can
    /// plan differently from the system's `sqlite3`), and times one run of it.
    Explain {
        /// `sqlite://PATH`
        database: String,
        sql: String,
        /// Values for `$1`, `$2`, ... (integers)
        binds: Vec<i64>,
    },
}

pub struct Ctx {
    pub fika: PathBuf,
    pub run_dir: PathBuf,
    pub cache: PathBuf,
    pub smoke: bool,
}

impl Ctx {
    /// A measurement window: `seconds` in a full run, a tenth of it in a smoke run.
    pub fn window(&self, seconds: f64) -> Duration {
        Duration::from_secs_f64(if self.smoke { seconds / 10.0 } else { seconds })
    }
}

struct Hello {
    c1: load::Stats,
    c64: load::Stats,
    startup_ms: f64,
    rss_kib: u64,
}

async fn hello_baseline(ctx: &Ctx) -> Result<Hello> {
    let exe = std::env::current_exe()?;
    let mut startups = Vec::new();
    let mut last = None;
    for i in 0..5 {
        let port = procs::free_port();
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args(["hello", &format!("127.0.0.1:{port}")]);
        let p = procs::spawn_and_wait(cmd, port, &ctx.run_dir.join(format!("hello-{i}.log")), "/")
            .await?;
        startups.push(p.startup.as_secs_f64() * 1000.0);
        if let Some(prev) = last.replace(p) {
            let prev: procs::Proc = prev;
            prev.stop().await;
        }
    }
    let p = last.context("hello server")?;
    startups.sort_by(|a, b| a.total_cmp(b));
    let rss_kib = p.memory_kib().0;
    let url = format!("{}/", p.base);
    let none = Arc::new(Vec::new());
    let c1 = load::run(
        1,
        ctx.window(0.5),
        ctx.window(2.0),
        load::get(url.clone(), none.clone()),
    )
    .await;
    let c64 = load::run(64, ctx.window(0.5), ctx.window(3.0), load::get(url, none)).await;
    p.stop().await;
    Ok(Hello {
        c1,
        c64,
        startup_ms: load::percentile(&startups, 50.0),
        rss_kib,
    })
}

fn specs(smoke: bool) -> (seed::Spec, seed::Spec) {
    let big = if smoke {
        seed::Spec {
            accounts: 300,
            statuses: 5_000,
            follows_min: 5,
            follows_max: 20,
            token_users: 20,
            feed_cap: 100,
            light_follows: 10,
            heavy_follows: 200,
        }
    } else {
        seed::Spec {
            accounts: 10_000,
            statuses: 1_000_000,
            follows_min: 50,
            follows_max: 300,
            token_users: 1_000,
            feed_cap: 400,
            light_follows: 100,
            heavy_follows: 5_000,
        }
    };
    let small = seed::Spec {
        statuses: big.statuses / 100,
        ..big.clone()
    };
    (small, big)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(Command::Hello { listen }) = &args.command {
        return calibrate::serve_hello(listen);
    }
    if let Some(Command::Explain {
        database,
        sql,
        binds,
    }) = &args.command
    {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(db::explain(database, sql, binds));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let failed = rt.block_on(bench(args))?;
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

async fn bench(args: Args) -> Result<bool> {
    let total = Instant::now();
    let fika = match &args.fika {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("own directory")?
            .join("fika"),
    };
    anyhow::ensure!(
        fika.exists(),
        "no fika binary at {} (build it, or pass --fika)",
        fika.display()
    );
    let cache = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| home_dir().join(".cache/fika/bench"));
    let run_dir = std::env::temp_dir().join(format!("fika-bench-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir)?;
    let ctx = Ctx {
        fika: fika.clone(),
        run_dir: run_dir.clone(),
        cache,
        smoke: args.smoke,
    };
    let skip = |p: &str| args.skip.iter().any(|s| s == p);
    let postgres = (args.postgres != "none" && !skip("postgres")).then(|| args.postgres.clone());
    let mut rep = Report::default();
    // Correctness problems found along the way (the smoke run fails on these).
    let mut wrong: Vec<String> = Vec::new();
    eprintln!(
        "fika-bench: measuring {}{}",
        fika.display(),
        if args.smoke { " (smoke run)" } else { "" }
    );

    // Phase 0: this run's limits.
    eprintln!("[calibrate] crypto, hello-world, bare inserts");
    let crypto = tokio::task::spawn_blocking({
        let w = ctx.window(1.0);
        move || calibrate::crypto(w)
    })
    .await??;
    let hello = hello_baseline(&ctx).await?;
    let sqlite_scratch = open_scratch_sqlite(&run_dir).await?;
    let sqlite_insert = db::bare_insert_rate(&sqlite_scratch, 1, ctx.window(1.5)).await?;
    sqlite_scratch.close().await;
    let pg_insert = match &postgres {
        Some(base) => Some(pg_insert_rate(&ctx, base).await?),
        None => None,
    };
    rep.set("calibration", json!({
        "crypto": format!("{crypto:?}"),
        "openssl_sign_per_s": crypto.openssl_sign_per_s, "openssl_verify_per_s": crypto.openssl_verify_per_s,
        "openssl_sign_2core_per_s": crypto.openssl_sign_2core_per_s, "openssl_verify_2core_per_s": crypto.openssl_verify_2core_per_s,
        "rsa_crate_sign_per_s": crypto.rsa_crate_sign_per_s, "rsa_crate_verify_per_s": crypto.rsa_crate_verify_per_s,
        "fika_sign_per_s": crypto.fika_sign_per_s,
        "hello_c1": hello.c1.json(), "hello_c64": hello.c64.json(), "hello_startup_ms": hello.startup_ms,
        "hello_rss_kib": hello.rss_kib, "sqlite_bare_insert_per_s": sqlite_insert, "pg_bare_insert_c8_per_s": pg_insert,
    }));
    rep.info(
        "C1",
        "hello-world (axum+tokio) c=1 p50 / p99",
        format!("{} / {}", ms(hello.c1.p(50.0)), ms(hello.c1.p(99.0))),
        String::new(),
    );
    rep.info(
        "C2",
        "hello-world c=64 throughput",
        per_s(hello.c64.rate()),
        String::new(),
    );
    rep.info(
        "C3",
        "OpenSSL RSA-2048 sign / verify, 1 core",
        format!(
            "{} / {}",
            per_s(crypto.openssl_sign_per_s),
            per_s(crypto.openssl_verify_per_s)
        ),
        String::new(),
    );
    rep.info(
        "C4",
        "OpenSSL verify, 2 cores",
        per_s(crypto.openssl_verify_2core_per_s),
        String::new(),
    );
    rep.check(
        "C5",
        "rsa crate (activitypub_federation's) sign, vs OpenSSL",
        per_s(crypto.rsa_crate_sign_per_s),
        per_s(crypto.openssl_sign_per_s),
        crypto.openssl_sign_per_s / crypto.rsa_crate_sign_per_s,
        "OpenSSL faster: keep it",
        crypto.openssl_sign_per_s > crypto.rsa_crate_sign_per_s,
    );
    rep.check(
        "C6",
        "rsa crate verify, vs OpenSSL",
        per_s(crypto.rsa_crate_verify_per_s),
        per_s(crypto.openssl_verify_per_s),
        crypto.openssl_verify_per_s / crypto.rsa_crate_verify_per_s,
        "OpenSSL faster: keep it",
        crypto.openssl_verify_per_s > crypto.rsa_crate_verify_per_s,
    );
    rep.check(
        "C7",
        "fika's signing path (digest + headers + RSA), vs raw sign",
        per_s(crypto.fika_sign_per_s),
        per_s(crypto.openssl_sign_per_s),
        crypto.fika_sign_per_s / crypto.openssl_sign_per_s,
        ">= 0.9",
        crypto.fika_sign_per_s >= 0.9 * crypto.openssl_sign_per_s,
    );
    rep.info(
        "C8",
        "bare status INSERT, one per transaction: SQLite c=1 / PostgreSQL c=8",
        format!(
            "{} / {}",
            per_s(sqlite_insert),
            pg_insert.map(per_s).unwrap_or("-".into())
        ),
        String::new(),
    );

    // Phase 1: client API on seeded databases.
    let (small, big) = specs(args.smoke);
    let mut sqlite_big_url = None;
    if !skip("client") {
        let mut backends = vec![("sqlite", seed::Backend::Sqlite)];
        if let Some(base) = &postgres {
            backends.push((
                "postgres",
                seed::Backend::Postgres {
                    base_url: base.clone(),
                },
            ));
        }
        let mut sqlite_throughput = None;
        for (bname, backend) in &backends {
            let mut per_size = Vec::new();
            for (label, spec) in [("small", &small), ("big", &big)] {
                let name = format!("{bname}-{label}");
                eprintln!("[client] {name}: {} statuses", spec.statuses);
                let url = seed::prepare(spec, backend, &ctx.cache, &run_dir, &fika, &name).await?;
                let seeded = seed::seeded(spec);
                let is_big = label == "big";
                let res = client_api::run(
                    &ctx,
                    &name,
                    &url,
                    &seeded,
                    &client_api::Options {
                        posting: is_big,
                        light_heavy: is_big,
                    },
                )
                .await?;
                rep.set(&format!("client_{name}"), json!({
                    "statuses": spec.statuses, "raw_push": res.raw_push.json(), "home_c1": res.home_c1.json(),
                    "page5_c1": res.page5_c1.json(), "home_c64": res.home_c64.json(),
                    "light": res.light.as_ref().map(|s| s.json()), "heavy": res.heavy.as_ref().map(|s| s.json()),
                    "posting": res.posting.as_ref().map(|s| s.json()), "fanout_rows": res.fanout_rows,
                    "fanout_rows_per_s": res.fanout_rows_per_s, "raw_fanout_rows_per_s": res.raw_fanout_rows_per_s,
                    "drain_seconds": res.drain_seconds, "startup_ms": res.startup_ms, "idle_rss_kib": res.idle_rss_kib,
                    "peak_rss_kib": res.peak_rss_kib, "db_bytes": res.db_bytes,
                    "hidden": res.hidden.as_ref().map(|(b, a)| json!({"before": b.json(), "after": a.json()})),
                    "filtered": res.filtered.as_ref().map(|(b, a)| json!({"before": b.json(), "after": a.json()})),
                }));
                if let Some(pair) = &res.filtered {
                    let what = "home p50, c=1, viewers with 5 filters of 3 keywords (warn, home)";
                    let id = format!("B2 {bname} {}", spec.statuses);
                    check_before_after(&mut rep, &mut wrong, &id, what, pair, &name, "filters");
                }
                if let Some(pair) = &res.hidden {
                    let what = "home p50, c=1, viewers blocking 20 and muting 20 they follow";
                    let id = format!("B1 {bname} {}", spec.statuses);
                    check_before_after(&mut rep, &mut wrong, &id, what, pair, &name, "blocks");
                }
                if res.home_c1.errors + res.home_c64.errors + res.page5_c1.errors > 0 {
                    wrong.push(format!(
                        "{name}: {} failed timeline requests",
                        res.home_c1.errors + res.home_c64.errors + res.page5_c1.errors
                    ));
                }
                let n = spec.statuses;
                let budget = hello.c1.p(50.0) + 10.0 * res.raw_push.p(50.0);
                let p50 = res.home_c1.p(50.0);
                rep.check(
                    &format!("A1 {bname} {n}"),
                    "home timeline p50, c=1",
                    ms(p50),
                    format!(
                        "hello p50 + 10 x raw query p50 ({}) = {}",
                        ms(res.raw_push.p(50.0)),
                        ms(budget)
                    ),
                    p50 / budget,
                    "<= 1",
                    p50 <= budget,
                );
                let p99 = res.home_c1.p(99.0);
                rep.check(
                    &format!("A2 {bname} {n}"),
                    "home timeline p99, c=1",
                    ms(p99),
                    format!("p50 {}", ms(p50)),
                    p99 / p50,
                    "<= 5",
                    p99 <= 5.0 * p50,
                );
                let tput = res.home_c64.rate();
                rep.check(
                    &format!("A3 {bname} {n}"),
                    "home timeline throughput, c=64",
                    per_s(tput),
                    format!("hello {}", per_s(hello.c64.rate())),
                    tput / hello.c64.rate(),
                    ">= 0.10",
                    tput >= 0.10 * hello.c64.rate(),
                );
                if *bname == "postgres" && is_big {
                    if let Some(s) = sqlite_throughput {
                        rep.check(
                            &format!("A4 {n}"),
                            "home throughput PostgreSQL vs SQLite",
                            per_s(tput),
                            format!("SQLite {}", per_s(s)),
                            tput / s,
                            ">= 0.6",
                            tput >= 0.6 * s,
                        );
                    }
                }
                if *bname == "sqlite" && is_big {
                    sqlite_throughput = Some(tput);
                    sqlite_big_url = Some(url.clone());
                }
                let p5 = res.page5_c1.p(50.0);
                if res.page5_c1.ok > 0 {
                    rep.check(
                        &format!("A7 {bname} {n}"),
                        "page 5 (max_id) p50 vs page 1",
                        ms(p5),
                        ms(p50),
                        p5 / p50,
                        "<= 1.2",
                        p5 <= 1.2 * p50,
                    );
                }
                if let Some(post) = &res.posting {
                    let base = if *bname == "sqlite" {
                        sqlite_insert
                    } else {
                        pg_insert.unwrap_or(f64::NAN)
                    };
                    rep.check(
                        &format!("A5 {bname}"),
                        "POST /api/v1/statuses, c=16 (authors with ~175 followers)",
                        format!(
                            "{} (p50 {}, p99 {})",
                            per_s(post.rate()),
                            ms(post.p(50.0)),
                            ms(post.p(99.0))
                        ),
                        format!("bare insert {}", per_s(base)),
                        post.rate() / base,
                        ">= 0.25",
                        post.rate() >= 0.25 * base,
                    );
                    if post.errors > 0 {
                        wrong.push(format!("{name}: {} failed posts", post.errors));
                    }
                    rep.check(
                        &format!("A6 {bname}"),
                        "home-feed fan-out rows/s (posting + drain)",
                        format!(
                            "{} ({} rows, drained {:.1} s after)",
                            per_s(res.fanout_rows_per_s),
                            res.fanout_rows,
                            res.drain_seconds
                        ),
                        format!("raw INSERT…SELECT {}", per_s(res.raw_fanout_rows_per_s)),
                        res.fanout_rows_per_s / res.raw_fanout_rows_per_s,
                        ">= 0.7",
                        res.fanout_rows_per_s >= 0.7 * res.raw_fanout_rows_per_s,
                    );
                    if res.fanout_rows <= 0 {
                        wrong.push(format!("{name}: posting fanned out no feed rows"));
                    }
                }
                if let (Some(l), Some(h)) = (&res.light, &res.heavy) {
                    rep.check(
                        &format!("G2 {bname}"),
                        "home p99: follows 5,000 vs follows 100",
                        ms(h.p(99.0)),
                        ms(l.p(99.0)),
                        h.p(99.0) / l.p(99.0),
                        "<= 2",
                        h.p(99.0) <= 2.0 * l.p(99.0),
                    );
                }
                if let Some(bytes) = res.db_bytes {
                    rep.info(
                        &format!("G5 {n}"),
                        "SQLite file bytes per status (seeded feeds capped)",
                        format!("{:.0} B", bytes as f64 / n as f64),
                        String::new(),
                    );
                }
                per_size.push(res);
            }
            if let [s, b] = &per_size[..] {
                let (ps, pb) = (s.home_c1.p(50.0), b.home_c1.p(50.0));
                rep.check(
                    &format!("G1 {bname}"),
                    "home p50 at 100x statuses",
                    ms(pb),
                    ms(ps),
                    pb / ps,
                    "<= 1.5",
                    pb <= 1.5 * ps,
                );
            }
        }
    }

    // Phase 1b: profile search over discoverable accounts.
    if !skip("directory") {
        let accounts = if args.smoke { 500 } else { 10_000 };
        let mut backends: Vec<(&str, Option<&str>)> = vec![("sqlite", None)];
        if let Some(base) = &postgres {
            backends.push(("postgres", Some(base.as_str())));
        }
        for (bname, pg) in backends {
            let name = format!("directory-{bname}");
            eprintln!("[directory] {name}: {accounts} profiles");
            let url = directory::fresh_database(&run_dir, &name, pg).await?;
            let d = directory::run(&ctx, &name, &url, accounts).await?;
            rep.set(&format!("directory_{bname}"), json!({
                "accounts": d.accounts, "search": d.search.json(), "raw": d.raw.json(), "hits": d.hits,
            }));
            if d.search.errors > 0 || d.hits < 1.0 {
                wrong.push(format!(
                    "{name}: {} failed searches, {:.1} accounts found per query",
                    d.search.errors, d.hits
                ));
            }
            let (p50, raw) = (d.search.p(50.0), d.raw.p(50.0));
            let budget = hello.c1.p(50.0) + 10.0 * raw;
            rep.check(
                &format!("D1 {bname}"),
                &format!("account search by skill p50, c=1 ({accounts} discoverable profiles with fields)"),
                ms(p50),
                format!(
                    "hello p50 + 10 x raw full-text query p50 ({}) = {}",
                    ms(raw),
                    ms(budget)
                ),
                p50 / budget,
                "<= 1",
                p50 <= budget,
            );
        }
    }

    // Phase 2: footprint.
    if !skip("footprint") {
        eprintln!("[footprint] start-up, memory, binary");
        let url = match &sqlite_big_url {
            Some(u) => u.clone(),
            None => {
                seed::prepare(
                    &big,
                    &seed::Backend::Sqlite,
                    &ctx.cache,
                    &run_dir,
                    &fika,
                    "footprint",
                )
                .await?
            }
        };
        let startup = client_api::startup(&ctx, &url, if args.smoke { 2 } else { 10 }).await?;
        rep.check(
            "M3",
            "start-up to first /api/v1/instance (10^6 statuses on disk)",
            ms(startup),
            format!("hello-world {}", ms(hello.startup_ms)),
            startup / hello.startup_ms,
            "<= 100 ms",
            startup <= 100.0,
        );
        let seeded = seed::seeded(&big);
        let peaks = client_api::leak_check(&ctx, "leak", &url, &seeded).await?;
        let (first, second, third) = (peaks[0], peaks[1], peaks[2]);
        let idle = rep
            .data
            .get("client_sqlite-big")
            .and_then(|v| v["idle_rss_kib"].as_u64())
            .unwrap_or(0);
        if idle > 0 {
            rep.check(
                "M1",
                "idle RSS after start (SQLite, 10^6 statuses)",
                mib(idle),
                format!("hello-world {}", mib(hello.rss_kib)),
                idle as f64 / hello.rss_kib as f64,
                "<= 30 MiB",
                idle <= 30 * 1024,
            );
        }
        rep.check(
            "M2",
            "peak RSS under c=64 load, passes 1 / 2 / 3",
            format!("{} / {} / {}", mib(first), mib(second), mib(third)),
            String::new(),
            third as f64 / second as f64,
            "<= 100 MiB; pass 3 <= 1.05 x pass 2",
            third <= 100 * 1024 && third as f64 <= second as f64 * 1.05,
        );
        let size = std::fs::metadata(&fika)?.len();
        let stripped = strip_size(&fika, &run_dir).await;
        rep.info(
            "M4",
            "binary size (as built / stripped)",
            format!(
                "{:.1} MB / {}",
                size as f64 / 1e6,
                stripped
                    .map(|s| format!("{:.1} MB", s as f64 / 1e6))
                    .unwrap_or("-".into())
            ),
            String::new(),
        );
        rep.set("footprint", json!({"startup_ms": startup, "peak_pass1_kib": first, "peak_pass2_kib": second, "peak_pass3_kib": third, "binary_bytes": size, "stripped_bytes": stripped}));
    }

    // Phase 3: federation.
    if !skip("federation") {
        eprintln!("[federation] five nodes on loopback");
        let sizes = if args.smoke {
            federation::Sizes {
                followers_per_node: 2,
                latency_posts: 5,
                ingest_activities: 100,
                outage_posts: 5,
                outage: Duration::from_secs(1),
            }
        } else {
            federation::Sizes {
                followers_per_node: 10,
                latency_posts: 200,
                ingest_activities: 4_000,
                outage_posts: 100,
                outage: Duration::from_secs(10),
            }
        };
        let f = federation::run(&ctx, &sizes).await?;
        let floor = 1000.0 / crypto.fika_sign_per_s
            + 1000.0 / crypto.openssl_verify_per_s
            + 1000.0 / sqlite_insert
            + hello.c1.p(50.0);
        let p50 = f.latency.p(50.0);
        rep.check(
            "F1",
            "post on A until in a follower's home stream on B, p50",
            ms(p50),
            format!("sign + verify + insert + RTT = {}", ms(floor)),
            p50 / floor,
            "<= 15 ms",
            p50 <= 15.0,
        );
        rep.check(
            "F1 p99",
            "same, p99",
            ms(f.latency.p(99.0)),
            ms(p50),
            f.latency.p(99.0) / p50,
            "<= 50 ms",
            f.latency.p(99.0) <= 50.0,
        );
        rep.info(
            "F1 post",
            "of which the POST on A (author with 31 remote followers), p50 / p99",
            format!(
                "{} / {}",
                ms(f.post_latency.p(50.0)),
                ms(f.post_latency.p(99.0))
            ),
            String::new(),
        );
        if f.latency.errors > 0 {
            wrong.push(format!("F1: {} posts never reached B", f.latency.errors));
        }
        let mut per_peer: Vec<_> = f.deliveries_per_post.iter().collect();
        per_peer.sort_by(|a, b| a.0.cmp(b.0));
        let exact = per_peer.iter().all(|(_, v)| (**v - 1.0).abs() < 1e-9);
        rep.check(
            "F5",
            "signed POSTs per post, per peer node (B, C, D, E)",
            per_peer
                .iter()
                .map(|(k, v)| format!("{k} {v:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            "1 per peer".into(),
            f64::NAN,
            "exactly 1",
            exact,
        );
        if !exact {
            wrong.push(format!("F5: deliveries per post per peer {per_peer:?}"));
        }
        let sign_ms = 1000.0 / crypto.openssl_sign_per_s;
        rep.check(
            "F5 cpu",
            "author node CPU per post (4 peers)",
            ms(f.author_cpu_ms_per_post),
            format!("1.3 x 4 signs + 1 ms = {}", ms(1.3 * 4.0 * sign_ms + 1.0)),
            f.author_cpu_ms_per_post / (1.3 * 4.0 * sign_ms + 1.0),
            "<= 1",
            f.author_cpu_ms_per_post <= 1.3 * 4.0 * sign_ms + 1.0,
        );
        let rate = f.ingest_accepted as f64 / f.ingest_seconds;
        let limit = crypto.openssl_verify_2core_per_s.min(sqlite_insert);
        let answered = f.ingest_accepted as f64 / f.ingest_answered_seconds;
        rep.info(
            "F3 answer",
            "inbox answers (verified and queued, before the worker stores), c=32",
            per_s(answered),
            format!("min(2-core verify, bare insert) = {}", per_s(limit)),
        );
        rep.check(
            "F3",
            "inbox ingest until stored, signed Create(Note) at c=32 (10% forged)",
            per_s(rate),
            format!("min(2-core verify, bare insert) = {}", per_s(limit)),
            rate / limit,
            ">= 0.5",
            rate >= 0.5 * limit,
        );
        let clean = f.forged_stored == 0
            && f.ingest_rejected == f.forged_count
            && f.refetches_during_ingest < 1.0
            && f.ingest_stored == f.ingest_accepted as i64;
        rep.check(
            "F4",
            "forged signatures: rejected / stored / key refetches",
            format!(
                "{}/{} / {} / {}",
                f.ingest_rejected, f.forged_count, f.forged_stored, f.refetches_during_ingest
            ),
            "all rejected, 0 stored, 0 fetches".into(),
            f64::NAN,
            "exact",
            clean,
        );
        if !clean {
            wrong.push(format!(
                "F4: rejected {}/{}, forged stored {}, refetches {}, stored {} of {} accepted",
                f.ingest_rejected,
                f.forged_count,
                f.forged_stored,
                f.refetches_during_ingest,
                f.ingest_stored,
                f.ingest_accepted
            ));
        }
        let d50 = f.latency_degraded.p(50.0);
        rep.check(
            "F8",
            "F1 p50 with D slowed 200 ms and E black-holed",
            ms(d50),
            format!("healthy {}", ms(p50)),
            d50 / p50,
            "<= 1.1",
            d50 <= 1.1 * p50,
        );
        if f.latency_degraded.errors > 0 {
            wrong.push(format!(
                "F8: {} posts never reached B while peers were slow/dead",
                f.latency_degraded.errors
            ));
        }
        let caught = f.outage_lost == 0 && f.outage_duplicate_deliveries == 0;
        rep.check(
            "F9",
            "catch-up after C's outage: seconds after restart, lost, duplicate sends",
            format!(
                "{:.2} s, {} lost, {} dup",
                f.catch_up_seconds, f.outage_lost, f.outage_duplicate_deliveries
            ),
            format!("{} posts during {:?}", sizes.outage_posts, sizes.outage),
            f64::NAN,
            "0 lost, 0 dup",
            caught,
        );
        if !caught {
            wrong.push(format!(
                "F9: {} lost, {} duplicate deliveries",
                f.outage_lost, f.outage_duplicate_deliveries
            ));
        }
        rep.info(
            "F peak",
            "peak RSS of the author node A",
            mib(f.peak_rss_kib),
            String::new(),
        );
        rep.set("federation", json!({
            "latency": f.latency.json(), "post_latency": f.post_latency.json(), "latency_degraded": f.latency_degraded.json(), "deliveries_per_post": f.deliveries_per_post,
            "author_cpu_ms_per_post": f.author_cpu_ms_per_post, "ingest_accepted": f.ingest_accepted, "ingest_rejected": f.ingest_rejected,
            "ingest_seconds": f.ingest_seconds, "ingest_answered_seconds": f.ingest_answered_seconds, "ingest_stored": f.ingest_stored, "forged": f.forged_count, "forged_stored": f.forged_stored,
            "refetches_during_ingest": f.refetches_during_ingest, "catch_up_seconds": f.catch_up_seconds, "outage_lost": f.outage_lost,
            "outage_duplicate_deliveries": f.outage_duplicate_deliveries, "peak_rss_kib": f.peak_rss_kib,
        }));
    }

    // Phase 4: the organisation's public conversation.
    if !skip("org") {
        let sizes = if args.smoke {
            federation::OrgSizes {
                peers: 3,
                posts: 2,
                backfill: 10,
            }
        } else {
            federation::OrgSizes {
                peers: 20,
                posts: 20,
                backfill: 200,
            }
        };
        eprintln!(
            "[org] one node, {} org peers, then a new org peer backfilling",
            sizes.peers
        );
        let o = federation::org_run(&ctx, &sizes).await?;
        let exact = o.missing == 0 && o.posts_per_peer == (1.0, 1.0);
        rep.check(
            "O1",
            &format!(
                "signed POSTs per public post, per org peer ({} peers, nobody following)",
                sizes.peers
            ),
            format!(
                "min {:.2}, max {:.2}",
                o.posts_per_peer.0, o.posts_per_peer.1
            ),
            format!("{} posts", sizes.posts),
            f64::NAN,
            "exactly 1",
            exact,
        );
        if !exact {
            wrong.push(format!(
                "O1: per peer {:?}, {} peers missing posts",
                o.posts_per_peer, o.missing
            ));
        }
        let complete = o.backfill_stored == sizes.backfill as i64;
        rep.check(
            "O2",
            &format!(
                "backfill of {} public statuses from one org peer, vs reading them through its client API",
                sizes.backfill
            ),
            format!("{:.2} s, {} stored", o.backfill_seconds, o.backfill_stored),
            format!("{:.2} s", o.api_read_seconds),
            o.backfill_seconds / o.api_read_seconds,
            "all stored",
            complete,
        );
        if !complete {
            wrong.push(format!(
                "O2: {} of {} statuses backfilled",
                o.backfill_stored, sizes.backfill
            ));
        }
        rep.set("org", json!({"peers": sizes.peers, "posts": sizes.posts, "posts_per_peer_min": o.posts_per_peer.0,
            "posts_per_peer_max": o.posts_per_peer.1, "missing": o.missing, "backfill": sizes.backfill,
            "backfill_seconds": o.backfill_seconds, "backfill_stored": o.backfill_stored, "api_read_seconds": o.api_read_seconds}));
    }

    // Phase 5: groups across nodes.
    if !skip("group") {
        let sizes = federation::GroupSizes {
            posts: if args.smoke { 3 } else { 30 },
        };
        eprintln!("[group] a group on A, its members on B and C");
        let g = federation::group_run(&ctx, &sizes).await?;
        let (via, direct) = (g.via_group.p(50.0), g.direct.p(50.0));
        rep.check(
            "GR1",
            "post on B until a member's home stream on C shows the group's boost (group on A), p50",
            ms(via),
            format!("a follower's stream on C, p50 {}", ms(direct)),
            via / direct,
            // One more delivery (B to A, then A to C) and C's fetch of the post from B.
            "<= 4x a follow",
            via <= 4.0 * direct && g.via_group.errors == 0,
        );
        let per_node = (
            g.deliveries_per_post.0 / g.member_nodes as f64,
            g.deliveries_per_post.1 / g.member_nodes as f64,
        );
        let exact = per_node == (1.0, 1.0) && g.duplicates == 0;
        rep.check(
            "GR2",
            &format!(
                "announces per post per member node ({} member nodes), duplicates stored",
                g.member_nodes
            ),
            format!(
                "min {:.2}, max {:.2}, {} duplicates",
                per_node.0, per_node.1, g.duplicates
            ),
            format!("{} posts", sizes.posts),
            f64::NAN,
            "exactly 1, none",
            exact,
        );
        if !exact {
            wrong.push(format!(
                "GR2: {per_node:?} announces per member node, {} duplicates",
                g.duplicates
            ));
        }
        rep.set("group", json!({"posts": sizes.posts, "via_group_p50_ms": via, "direct_p50_ms": direct,
            "via_group_p99_ms": g.via_group.p(99.0), "errors": g.via_group.errors,
            "deliveries_per_post_min": g.deliveries_per_post.0, "deliveries_per_post_max": g.deliveries_per_post.1,
            "member_nodes": g.member_nodes, "duplicates": g.duplicates}));
    }

    // Phase 6: announcements across nodes.
    if !skip("announce") {
        let sizes = federation::AnnounceSizes {
            rounds: if args.smoke { 2 } else { 15 },
        };
        eprintln!("[announce] an announcement on A read on B, counted back at A");
        let an = federation::announce_run(&ctx, &sizes).await?;
        let (ann, status) = (
            an.announcement_to_stream.p(50.0),
            an.status_to_stream.p(50.0),
        );
        rep.check(
            "AN1",
            "announcement published on A until a member's stream on B shows it, p50",
            ms(ann),
            format!("a status to a follower's stream on B, p50 {}", ms(status)),
            ann / status,
            "<= 2x a status",
            ann <= 2.0 * status && an.announcement_to_stream.errors == 0,
        );
        let counted = an.read_counted.p(50.0);
        rep.check(
            "AN2",
            "dismissal on B until A's admin API counts it, p50 / max",
            format!("{} / {}", ms(counted), ms(an.read_counted.p(100.0))),
            "reports coalesced: at most one per 3 s".to_string(),
            f64::NAN,
            "max <= 5 s",
            an.read_counted.p(100.0) <= 5000.0 && an.read_counted.ok == sizes.rounds,
        );
        rep.set(
            "announce",
            json!({"rounds": sizes.rounds, "announcement_p50_ms": ann, "status_p50_ms": status,
            "read_counted_p50_ms": counted, "read_counted_max_ms": an.read_counted.p(100.0),
            "errors": an.announcement_to_stream.errors}),
        );
    }

    // Web Push: a burst of mentions to a subscribed user.
    if !skip("push") {
        let sizes = federation::PushSizes {
            mentions: if args.smoke { 40 } else { 400 },
        };
        eprintln!(
            "[push] {} mentions to a user with a Web Push subscription",
            sizes.mentions
        );
        let p = federation::push_run(&ctx, &sizes).await?;
        rep.check(
            "W1",
            "pushes delivered per second during a burst of mentions (8 posting at once)",
            per_s(p.pushed_per_s),
            format!(
                "mentions posted {} (the receiver takes {} plain POSTs)",
                per_s(p.posted_per_s),
                per_s(p.raw_posts_per_s)
            ),
            p.pushed_per_s / p.posted_per_s,
            ">= 0.8, all delivered",
            p.pushed_per_s >= 0.8 * p.posted_per_s && p.received == sizes.mentions,
        );
        if p.received != sizes.mentions {
            wrong.push(format!(
                "push: {} of {} pushes arrived",
                p.received, sizes.mentions
            ));
        }
        rep.set(
            "push",
            json!({"mentions": sizes.mentions, "received": p.received, "posted_per_s": p.posted_per_s,
            "pushed_per_s": p.pushed_per_s, "lag_after_last_ms": p.lag_after_last_ms,
            "raw_posts_per_s": p.raw_posts_per_s}),
        );
    }

    // Phase 7: insights.
    if !skip("insights") {
        let sizes = insights::Sizes {
            accounts: if args.smoke { 100 } else { 10_000 },
            statuses: if args.smoke { 2_000 } else { 1_000_000 },
            favourites: if args.smoke { 2_000 } else { 1_000_000 },
        };
        eprintln!(
            "[insights] a week of {} statuses and {} favourites",
            sizes.statuses, sizes.favourites
        );
        let i = insights::run(&ctx, &sizes).await?;
        let exact = i.counted == i.expected;
        rep.check(
            "IN1",
            &format!(
                "compute a week's figures ({} statuses, {} favourites in the week), seconds",
                sizes.statuses, sizes.favourites
            ),
            format!("{:.2} s ({} interactions)", i.compute_s, i.counted),
            format!("one pass over the week's rows {:.2} s", i.scan_s),
            i.compute_s / i.scan_s,
            // The figures read the interactions twice (pairs, people across nodes) and the
            // statuses for hashtags; each read is that pass or less.
            "<= 8x one pass, exact",
            i.compute_s <= 8.0 * i.scan_s && exact,
        );
        if !exact {
            wrong.push(format!(
                "IN1: the figures count {} interactions, a plain query {}",
                i.counted, i.expected
            ));
        }
        let p50 = i.measures.p(50.0);
        rep.check(
            "IN2",
            "POST /api/v1/admin/measures (active users, new users, interactions; that week), p50",
            ms(p50),
            format!("one pass over the week's rows {}", ms(i.scan_s * 1000.0)),
            p50 / (i.scan_s * 1000.0),
            "<= 3x one pass",
            p50 <= 3.0 * i.scan_s * 1000.0 && i.measures.errors == 0,
        );
        rep.set("insights", json!({"statuses": sizes.statuses, "favourites": sizes.favourites,
            "compute_s": i.compute_s, "scan_s": i.scan_s, "counted": i.counted, "expected": i.expected,
            "measures": i.measures.json()}));
    }

    rep.set("meta", json!({"smoke": args.smoke, "seconds": total.elapsed().as_secs_f64(), "fika": fika.display().to_string(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "note": "load generator and nodes share the machine's cores"}));
    println!("{}", rep.table());
    let misses = rep.failures().len();
    println!(
        "{} figures, {} targets missed; {:.0} s in all; JSON in {}",
        rep.rows.len(),
        misses,
        total.elapsed().as_secs_f64(),
        args.json.display()
    );
    std::fs::write(&args.json, serde_json::to_vec_pretty(&rep.to_json())?)?;
    for w in &wrong {
        eprintln!("WRONG RESULT: {w}");
    }
    if std::env::var_os("FIKA_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&run_dir);
    } else {
        eprintln!("kept {}", run_dir.display());
    }
    Ok(!wrong.is_empty())
}

async fn open_scratch_sqlite(run_dir: &Path) -> Result<db::Db> {
    db::Db::open(
        &format!("sqlite://{}", run_dir.join("scratch.db").display()),
        1,
    )
    .await
}

async fn pg_insert_rate(ctx: &Ctx, base: &str) -> Result<f64> {
    let admin = db::Db::open(&format!("{base}/postgres"), 1).await?;
    admin
        .exec(
            "DROP DATABASE IF EXISTS fika_bench_scratch WITH (FORCE)",
            &[],
        )
        .await?;
    admin
        .exec("CREATE DATABASE fika_bench_scratch", &[])
        .await?;
    let scratch = db::Db::open(&format!("{base}/fika_bench_scratch"), 8).await?;
    let rate = db::bare_insert_rate(&scratch, 8, ctx.window(1.5)).await?;
    scratch.close().await;
    admin
        .exec(
            "DROP DATABASE IF EXISTS fika_bench_scratch WITH (FORCE)",
            &[],
        )
        .await?;
    admin.close().await;
    Ok(rate)
}

async fn strip_size(bin: &Path, dir: &Path) -> Option<u64> {
    let out = dir.join("fika-stripped");
    let ok = tokio::process::Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .status()
        .await
        .ok()?
        .success();
    ok.then(|| std::fs::metadata(&out).ok().map(|m| m.len()))
        .flatten()
}

/// A client-phase row comparing the same viewers' home p50 with a feature in use (`after`)
/// and without (`before`): within 1.3 x, and no failed request.
fn check_before_after(
    rep: &mut Report,
    wrong: &mut Vec<String>,
    id: &str,
    what: &str,
    (before, after): &(load::Stats, load::Stats),
    run: &str,
    feature: &str,
) {
    let (pb, pa) = (before.p(50.0), after.p(50.0));
    rep.check(
        id,
        what,
        ms(pa),
        format!("same viewers with none {}", ms(pb)),
        pa / pb,
        "<= 1.3",
        pa <= 1.3 * pb,
    );
    if before.errors + after.errors > 0 {
        wrong.push(format!(
            "{run}: {} failed timeline requests with {feature}",
            before.errors + after.errors
        ));
    }
}
