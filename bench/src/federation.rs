//! Federation between real nodes on loopback: post-to-timeline latency, deliveries per peer,
//! inbox ingest with forged signatures mixed in, a slow and a dead peer, catch-up after an
//! outage. Each node is a `fika serve` process with its own SQLite database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::db::{Db, V};
use crate::load::Stats;
use crate::procs::{fika_cli, free_port, NodeSpec, Proc};
use crate::Ctx;

pub struct Sizes {
    /// Followers of the author on each of B, C and D.
    pub followers_per_node: usize,
    pub latency_posts: usize,
    pub ingest_activities: usize,
    pub outage_posts: usize,
    pub outage: Duration,
}

#[derive(Debug, Default)]
pub struct Results {
    pub latency: Stats,
    pub latency_degraded: Stats,
    /// The `POST /api/v1/statuses` on A alone, during F1.
    pub post_latency: Stats,
    pub deliveries_per_post: HashMap<String, f64>,
    pub author_cpu_ms_per_post: f64,
    pub peers: usize,
    pub ingest_accepted: usize,
    pub ingest_rejected: usize,
    /// From the first POST until every accepted activity is stored (the inbox answers once an
    /// activity is queued; a worker stores it).
    pub ingest_seconds: f64,
    /// From the first POST until the last answer.
    pub ingest_answered_seconds: f64,
    pub ingest_stored: i64,
    pub forged_stored: i64,
    pub forged_count: usize,
    pub refetches_during_ingest: f64,
    pub outage_lost: i64,
    pub outage_duplicate_deliveries: i64,
    pub catch_up_seconds: f64,
    pub peak_rss_kib: u64,
}

struct Site {
    name: &'static str,
    /// The address peers use (a proxy's for D).
    port: u16,
    listen_port: u16,
    data_dir: std::path::PathBuf,
    db_url: String,
    proc: Option<Proc>,
}

impl Site {
    fn domain(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    fn base(&self) -> String {
        format!("http://{}", self.domain())
    }
}

/// One client for the whole phase: building one loads the system's TLS roots (tens of
/// milliseconds), which would otherwise be timed as part of every post.
fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client")
        })
        .clone()
}

/// A TCP proxy that delays what the client sends by `delay_ms`: a slow peer, made from a
/// real node.
async fn latency_proxy(listen: u16, target: u16, delay_ms: Arc<AtomicU64>) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", listen)).await?;
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let delay = delay_ms.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                    return;
                };
                let (mut ri, mut wi) = inbound.split();
                let (mut ro, mut wo) = outbound.split();
                let upstream = async {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = ri.read(&mut buf).await?;
                        if n == 0 {
                            break;
                        }
                        let d = delay.load(Ordering::Relaxed);
                        if d > 0 {
                            tokio::time::sleep(Duration::from_millis(d)).await;
                        }
                        wo.write_all(&buf[..n]).await?;
                    }
                    wo.shutdown().await?;
                    std::io::Result::Ok(())
                };
                let downstream = tokio::io::copy(&mut ro, &mut wi);
                let _ = tokio::join!(upstream, downstream);
            });
        }
    });
    Ok(())
}

/// Accepts connections and never answers: a peer whose host is gone without a RST.
async fn black_hole(port: u16) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    Ok(())
}

async fn start(ctx: &Ctx, site: &mut Site, allowed: &str) -> Result<()> {
    start_with(ctx, site, allowed, vec![]).await
}

async fn start_with(
    ctx: &Ctx,
    site: &mut Site,
    allowed: &str,
    more: Vec<(String, String)>,
) -> Result<()> {
    let mut extra: Vec<(String, String)> = vec![
        ("FIKA_SERVER_DOMAIN".into(), site.domain()),
        ("FIKA_OAUTH_PASSWORD_GRANT".into(), "true".into()),
        ("FIKA_FEDERATION_ALLOW_HTTP".into(), "true".into()),
        ("FIKA_FEDERATION_RETRY_BASE_SECONDS".into(), "1".into()),
        ("FIKA_FEDERATION_ALLOWED_DOMAINS".into(), allowed.into()),
    ];
    extra.extend(more);
    let spec = NodeSpec {
        bin: &ctx.fika,
        data_dir: &site.data_dir,
        database_url: &site.db_url,
        port: site.listen_port,
        extra,
    };
    let log = format!("node-{}.log", site.name);
    site.proc = Some(spec.start(&log).await?);
    Ok(())
}

async fn user(ctx: &Ctx, site: &Site, name: &str) -> Result<String> {
    user_with(ctx, site, name, "read write follow").await
}

/// A local user logged in with `scopes` (through an app registered for them).
async fn user_with(ctx: &Ctx, site: &Site, name: &str, scopes: &str) -> Result<String> {
    let password = format!("{name}-bench-password");
    let env = vec![
        (
            "FIKA_DATA_DIR".to_string(),
            site.data_dir.display().to_string(),
        ),
        ("FIKA_DATABASE_URL".to_string(), site.db_url.clone()),
    ];
    fika_cli(
        &ctx.fika,
        &env,
        &["admin", "create-user", name, "--password-stdin"],
        Some(&format!("{password}\n")),
    )
    .await?;
    let base = format!("http://127.0.0.1:{}", site.listen_port);
    let c = http();
    let app: Value = c
        .post(format!("{base}/api/v1/apps"))
        .json(&json!({"client_name": "fika-bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes}))
        .send()
        .await?
        .json()
        .await?;
    let token: Value = c
        .post(format!("{base}/oauth/token"))
        .json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                      "username": name, "password": password, "scope": scopes}))
        .send()
        .await?
        .json()
        .await?;
    token["access_token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no token for {name}: {token}"))
}

async fn follow(site: &Site, token: &str, acct: &str) -> Result<()> {
    let c = http();
    let base = format!("http://127.0.0.1:{}", site.listen_port);
    let found: Value = c
        .get(format!("{base}/api/v2/search"))
        .query(&[("type", "accounts"), ("resolve", "true"), ("q", acct)])
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let id = found["accounts"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("{acct} not found from {}: {found}", site.name))?
        .to_string();
    let r = c
        .post(format!("{base}/api/v1/accounts/{id}/follow"))
        .bearer_auth(token)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("follow {acct} from {}: {}", site.name, r.status());
    }
    Ok(())
}

async fn post(site: &Site, token: &str, text: &str) -> Result<()> {
    let r = http()
        .post(format!(
            "http://127.0.0.1:{}/api/v1/statuses",
            site.listen_port
        ))
        .bearer_auth(token)
        .json(&json!({"status": text, "visibility": "public"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("posting on {}: {}", site.name, r.status());
    }
    Ok(())
}

/// Sum of a counter family in a node's /metrics for one route group and method, 2xx only.
async fn requests(site: &Site, route: &str, method: &str) -> Result<f64> {
    let text = http()
        .get(format!("http://127.0.0.1:{}/metrics", site.listen_port))
        .send()
        .await?
        .text()
        .await?;
    let want =
        format!("fika_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"2xx\"}}");
    Ok(text
        .lines()
        .filter(|l| l.starts_with(&want))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

async fn inbox_posts(site: &Site) -> Result<f64> {
    Ok(requests(site, "/inbox", "POST").await? + requests(site, "/users", "POST").await?)
}

/// Follows a user's streaming `user` channel (SSE) and reports each update's content with
/// the moment it arrived.
fn watch(site: &Site, token: &str) -> mpsc::UnboundedReceiver<(String, Instant)> {
    watch_events(site, token, "update")
}

/// [`watch`] for the events named `name` (`update`: the content; others: the raw data).
fn watch_events(
    site: &Site,
    token: &str,
    name: &'static str,
) -> mpsc::UnboundedReceiver<(String, Instant)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let url = format!(
        "http://127.0.0.1:{}/api/v1/streaming/user",
        site.listen_port
    );
    let token = token.to_string();
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let Ok(resp) = client.get(&url).bearer_auth(&token).send().await else {
            return;
        };
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            let now = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                if !event.lines().any(|l| l.trim() == format!("event: {name}")) {
                    continue;
                }
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if name != "update" {
                    if tx.send((data, now)).is_err() {
                        return;
                    }
                    continue;
                }
                if let Ok(v) = serde_json::from_str::<Value>(&data) {
                    // A boost (a group's announce) carries the post in `reblog`.
                    let content = format!(
                        "{}{}",
                        v["content"].as_str().unwrap_or_default(),
                        v["reblog"]["content"].as_str().unwrap_or_default()
                    );
                    if tx.send((content, now)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Posts `n` statuses one after the other on A and times each until B's follower stream
/// shows it.
async fn latency_run(
    a: &Site,
    a_token: &str,
    arrivals: &mut mpsc::UnboundedReceiver<(String, Instant)>,
    n: usize,
    tag: &str,
) -> Result<(Stats, Stats)> {
    latency_run_with(a, a_token, arrivals, n, tag, "").await
}

/// [`latency_run`] with `prefix` before each probe's text (a mention of a group).
async fn latency_run_with(
    a: &Site,
    a_token: &str,
    arrivals: &mut mpsc::UnboundedReceiver<(String, Instant)>,
    n: usize,
    tag: &str,
    prefix: &str,
) -> Result<(Stats, Stats)> {
    let mut ms = Vec::new();
    let mut post_ms = Vec::new();
    let mut errors = 0;
    let started = Instant::now();
    for i in 0..n {
        let marker = format!("bench-{tag}-{i}-end");
        let t0 = Instant::now();
        post(a, a_token, &format!("{prefix}Latency probe {marker}")).await?;
        post_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        let deadline = t0 + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline.into(), arrivals.recv()).await {
                Ok(Some((content, at))) if content.contains(&marker) => {
                    ms.push(at.duration_since(t0).as_secs_f64() * 1000.0);
                    break;
                }
                Ok(Some(_)) => continue,
                _ => {
                    errors += 1;
                    break;
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        Stats::from_samples(ms, errors, seconds),
        Stats::from_samples(post_ms, 0, seconds),
    ))
}

async fn count(db_url: &str, sql: &str) -> Result<i64> {
    let db = Db::open(db_url, 1).await?;
    let n = db.scalar(sql, &[]).await;
    db.close().await;
    n
}

pub async fn run(ctx: &Ctx, sizes: &Sizes) -> Result<Results> {
    let mut r = Results::default();
    let names = ["a", "b", "c", "d", "e"];
    let mut sites: Vec<Site> = names
        .iter()
        .map(|name| new_site(ctx, "fed", name))
        .collect();
    // D is reached through a proxy that can slow it down.
    let d_delay = Arc::new(AtomicU64::new(0));
    sites[3].listen_port = free_port();
    latency_proxy(sites[3].port, sites[3].listen_port, d_delay.clone()).await?;
    let allowed = format!(
        "[{}]",
        sites
            .iter()
            .map(|s| s.domain())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in sites.iter_mut() {
        start(ctx, s, &allowed).await?;
    }
    let (a, b, c, d, e) = (&sites[0], &sites[1], &sites[2], &sites[3], &sites[4]);
    let alice = user(ctx, a, "alice").await?;
    let alice_acct = format!("alice@{}", a.domain());
    let writers = ["w1", "w2", "w3", "w4"];
    for w in writers {
        user(ctx, a, w).await?;
    }
    // Followers: `followers_per_node` on each of B, C, D and one on E.
    let mut watcher_token = String::new();
    let mut b_tokens = Vec::new();
    for (site, prefix, n) in [
        (b, "bob", sizes.followers_per_node),
        (c, "carol", sizes.followers_per_node),
        (d, "dave", sizes.followers_per_node),
        (e, "erin", 1),
    ] {
        for i in 0..n {
            let token = user(ctx, site, &format!("{prefix}{i}")).await?;
            follow(site, &token, &alice_acct).await?;
            if site.name == "b" {
                if i == 0 {
                    watcher_token = token.clone();
                }
                b_tokens.push(token);
            }
        }
    }
    // Two of B's users also follow the writers whose activities the ingest phase replays.
    for token in b_tokens.iter().take(2) {
        for w in writers {
            follow(b, token, &format!("{w}@{}", a.domain())).await?;
        }
    }
    let expected = 3 * sizes.followers_per_node + 1;
    let a_db = a.db_url.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = count(
            &a_db,
            "SELECT COUNT(*) FROM follows f JOIN accounts t ON t.id = f.target_account_id \
             WHERE t.username = 'alice' AND t.domain = ''",
        )
        .await?;
        if n as usize >= expected {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {n} of {expected} follows reached A");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    r.peers = 4;

    // F1 + F5: latency to B's follower, inbound POSTs counted on every peer.
    let mut arrivals = watch(b, &watcher_token);
    tokio::time::sleep(Duration::from_millis(300)).await;
    latency_run(a, &alice, &mut arrivals, 3, "warmup").await?;
    let wait_queue_empty = |db: String| async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&db, "SELECT COUNT(*) FROM deliveries")
            .await
            .unwrap_or(0)
            > 0
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    wait_queue_empty(a_db.clone()).await;
    let mut before = HashMap::new();
    for s in &sites[1..] {
        before.insert(s.name, inbox_posts(s).await?);
    }
    let a_pid = a.proc.as_ref().map(|p| p.pid()).unwrap_or(0);
    let cpu0 = crate::procs::cpu_seconds(a_pid);
    (r.latency, r.post_latency) =
        latency_run(a, &alice, &mut arrivals, sizes.latency_posts, "f1").await?;
    wait_queue_empty(a_db.clone()).await;
    r.author_cpu_ms_per_post =
        (crate::procs::cpu_seconds(a_pid) - cpu0) * 1000.0 / sizes.latency_posts as f64;
    for s in &sites[1..] {
        let delta = inbox_posts(s).await? - before[s.name];
        r.deliveries_per_post
            .insert(s.name.to_string(), delta / sizes.latency_posts as f64);
    }

    // F3 + F4: pre-signed Creates from A's writers into B's shared inbox, 10% forged.
    ingest(ctx, &sites, &writers, sizes.ingest_activities, &mut r).await?;

    // F8: D slowed by 200 ms per request, E gone (a black hole where it was).
    d_delay.store(200, Ordering::Relaxed);
    let e_port = sites[4].port;
    if let Some(p) = sites[4].proc.take() {
        p.stop().await;
    }
    black_hole(e_port).await?;
    let (a, c) = (&sites[0], &sites[2]);
    r.latency_degraded = latency_run(a, &alice, &mut arrivals, sizes.latency_posts, "f8")
        .await?
        .0;
    d_delay.store(0, Ordering::Relaxed);

    // F9: C stops, A keeps posting, C comes back: time until it has everything, and
    // whether anything was lost or sent twice.
    let c_before = inbox_posts(c).await?;
    if let Some(p) = sites[2].proc.take() {
        p.stop().await;
    }
    let outage_started = Instant::now();
    for i in 0..sizes.outage_posts {
        post(&sites[0], &alice, &format!("Outage post bench-f9-{i}-end")).await?;
    }
    tokio::time::sleep(sizes.outage.saturating_sub(outage_started.elapsed())).await;
    start(ctx, &mut sites[2], &allowed).await?;
    let back = Instant::now();
    let c_db = sites[2].db_url.clone();
    let want = sizes.outage_posts as i64;
    let deadline = back + Duration::from_secs(120);
    let mut have;
    loop {
        have = count(
            &c_db,
            "SELECT COUNT(*) FROM statuses WHERE content LIKE '%bench-f9-%'",
        )
        .await?;
        if have >= want || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    r.catch_up_seconds = back.elapsed().as_secs_f64();
    r.outage_lost = want - have;
    // Everything C received after its restart beyond one POST per post was a duplicate send
    // (the counter restarted with the process, so this is the whole second life).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = inbox_posts(&sites[2]).await?;
    let _ = c_before;
    r.outage_duplicate_deliveries = (received as i64 - want).max(0);
    r.peak_rss_kib = sites[0]
        .proc
        .as_ref()
        .map(|p| p.memory_kib().1)
        .unwrap_or(0);
    for s in sites.iter_mut() {
        if let Some(p) = s.proc.take() {
            p.stop().await;
        }
    }
    Ok(r)
}

/// A request body and the headers that sign it.
type SignedRequest = (Vec<u8>, Vec<(String, String)>);

async fn ingest(
    _ctx: &Ctx,
    sites: &[Site],
    writers: &[&str],
    total: usize,
    r: &mut Results,
) -> Result<()> {
    use fika_federation::signatures;
    let (a, b) = (&sites[0], &sites[1]);
    let a_db = Db::open(&a.db_url, 1).await?;
    let mut keys = Vec::new();
    for w in writers {
        let pem = a_db
            .strings(
                "SELECT private_key_pem FROM accounts WHERE username = $1 AND domain = ''",
                &[V::S(w.to_string())],
            )
            .await?
            .pop()
            .context("writer key")?;
        keys.push((w.to_string(), signatures::parse_private_key(&pem)?));
    }
    a_db.close().await;
    let host = b.domain();
    let build = |i: usize, forged: bool| -> Result<SignedRequest> {
        let (name, key) = &keys[i % keys.len()];
        let actor = format!("{}/users/{name}", a.base());
        let kind = if forged {
            "bench-forged"
        } else {
            "bench-ingest"
        };
        let note = format!("{actor}/{kind}/{i}");
        let body = serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"), "type": "Create", "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [format!("{actor}/followers")],
            "object": {"id": note, "type": "Note", "attributedTo": actor,
                       "content": format!("<p>Ingest {kind} {i}</p>"), "published": "2026-11-24T12:00:00Z",
                       "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [format!("{actor}/followers")]}
        }))?;
        let mut headers: Vec<(String, String)> = signatures::sign(
            key,
            &format!("{actor}#main-key"),
            "POST",
            &host,
            "/inbox",
            Some(&body),
            std::time::SystemTime::now(),
        )?
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if forged {
            // Same length, different bytes: only the RSA check can tell.
            for (name, value) in headers.iter_mut() {
                if name.eq_ignore_ascii_case("signature") {
                    if let Some(at) = value.find("signature=\"") {
                        let p = at + 11;
                        let ch = if &value[p..p + 1] == "A" { "B" } else { "A" };
                        value.replace_range(p..p + 1, ch);
                    }
                }
            }
        }
        Ok((body, headers))
    };
    // Warm-up: each writer once, so B has fetched their keys before the timed window.
    let client = http();
    for i in 0..keys.len() {
        let (body, headers) = build(1_000_000 + i, false)?;
        let mut req = client
            .post(format!("{}/inbox", b.base()))
            .header("content-type", "application/activity+json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let status = req.send().await?.status();
        if !status.is_success() {
            bail!("warm-up activity refused by B: {status}");
        }
    }
    // Pre-sign everything outside the timed window.
    let mut prepared = Vec::with_capacity(total);
    for i in 0..total {
        let forged = i % 10 == 9;
        prepared.push((forged, build(i, forged)?));
    }
    r.forged_count = prepared.iter().filter(|p| p.0).count();
    let refetch_before = requests(a, "/users", "GET").await?;
    let prepared = Arc::new(prepared);
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let rejected = Arc::new(AtomicUsize::new(0));
    let url = format!("{}/inbox", b.base());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (prepared, next, accepted, rejected, url) = (
            prepared.clone(),
            next.clone(),
            accepted.clone(),
            rejected.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = crate::load::client();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((forged, (body, headers))) = prepared.get(i) else {
                    break;
                };
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/activity+json")
                    .body(body.clone());
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                match (forged, status) {
                    (false, 200..=299) => accepted.fetch_add(1, Ordering::Relaxed),
                    (true, 401) => rejected.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    r.ingest_answered_seconds = started.elapsed().as_secs_f64();
    r.ingest_accepted = accepted.load(Ordering::Relaxed);
    r.ingest_rejected = rejected.load(Ordering::Relaxed);
    // Accepted activities are stored by B's inbox worker: wait for it (bounded).
    let stored_sql = "SELECT COUNT(*) FROM statuses WHERE uri LIKE '%/bench-ingest/%' \
                      AND uri NOT LIKE '%/bench-ingest/100000%'";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        r.ingest_stored = count(&b.db_url, stored_sql).await?;
        if r.ingest_stored >= r.ingest_accepted as i64 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    r.ingest_seconds = started.elapsed().as_secs_f64();
    r.refetches_during_ingest = requests(a, "/users", "GET").await? - refetch_before;
    r.forged_stored = count(
        &b.db_url,
        "SELECT COUNT(*) FROM statuses WHERE uri LIKE '%/bench-forged/%'",
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The organisation's public conversation: org peers receive every public status; a new org
// peer backfills.

pub struct OrgSizes {
    /// `org` peers of the author's node (the bench's own listeners, counting signed POSTs).
    pub peers: usize,
    pub posts: usize,
    /// Public statuses a new org peer backfills.
    pub backfill: usize,
}

#[derive(Debug, Default)]
pub struct OrgResults {
    /// Signed POSTs each org peer received per public post, lowest and highest over peers.
    pub posts_per_peer: (f64, f64),
    /// Posts that did not reach every peer within the wait.
    pub missing: usize,
    /// From the backfill's start until it is done (both from the node's log), and how many
    /// statuses it stored.
    pub backfill_seconds: f64,
    pub backfill_stored: i64,
    /// The same statuses read through the author node's client API, page by page (40 each):
    /// the same data over the same HTTP stack, without federation.
    pub api_read_seconds: f64,
}

/// A site with its own data directory `PHASE-NAME` under the run's, not started yet.
fn new_site(ctx: &Ctx, phase: &str, name: &'static str) -> Site {
    let data_dir = ctx.run_dir.join(format!("{phase}-{name}"));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let port = free_port();
    Site {
        name,
        port,
        listen_port: port,
        db_url: format!("sqlite://{}", data_dir.join("fika.db").display()),
        data_dir,
        proc: None,
    }
}

/// A listener that takes signed POSTs to `/inbox` (202) and counts them; anything else 404.
async fn counting_peer(port: u16, count: Arc<AtomicUsize>) -> Result<()> {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new()
        .route(
            "/inbox",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let count = count.clone();
                async move {
                    if !headers.contains_key("signature") {
                        return StatusCode::UNAUTHORIZED;
                    }
                    // Only the deliveries of statuses count: the node also sends its weekly
                    // insights to org peers, on a timer of its own.
                    let doc: Value = serde_json::from_str(&body).unwrap_or_default();
                    if doc["type"] == "Create" && doc["object"]["type"] == "Note" {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    StatusCode::ACCEPTED
                }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND });
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}

/// Seconds between the first log line containing `from` and the first after it containing
/// `to`, from the lines' RFC 3339 timestamps.
fn log_span(log: &str, from: &str, to: &str) -> Option<f64> {
    let at = |l: &str| -> Option<f64> {
        let stamp = l.split_whitespace().next()?;
        let t = seconds_in_day(stamp)?;
        Some(t)
    };
    let mut lines = log.lines();
    let start = lines.by_ref().find(|l| l.contains(from)).and_then(at)?;
    let end = lines.find(|l| l.contains(to)).and_then(at)?;
    Some(end - start)
}

/// `2026-12-02T05:02:55.961879Z` to seconds within the day (spans here are far below a day).
fn seconds_in_day(stamp: &str) -> Option<f64> {
    let time = stamp.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

pub async fn org_run(ctx: &Ctx, sizes: &OrgSizes) -> Result<OrgResults> {
    let mut r = OrgResults::default();
    // O1: one author node, `peers` org peers, nobody following.
    let counters: Vec<Arc<AtomicUsize>> = (0..sizes.peers)
        .map(|_| Arc::new(AtomicUsize::new(0)))
        .collect();
    let mut peer_domains = Vec::new();
    for c in &counters {
        let port = free_port();
        counting_peer(port, c.clone()).await?;
        peer_domains.push(format!("127.0.0.1:{port}"));
    }
    let mut a = new_site(ctx, "org", "a");
    let mut e = new_site(ctx, "org", "e");
    let mut allowed = peer_domains.clone();
    allowed.push(e.domain());
    let no_backfill = vec![("FIKA_FEDERATION_BACKFILL_STATUSES".into(), "0".into())];
    start_with(
        ctx,
        &mut a,
        &format!("[{}]", allowed.join(", ")),
        no_backfill,
    )
    .await?;
    let author = user(ctx, &a, "olga").await?;
    for i in 0..sizes.posts {
        post(&a, &author, &format!("org-wide news {i}")).await?;
    }
    // E is allowed too, but not running yet: its deliveries wait in A's queue.
    let want = sizes.posts;
    let deadline = Instant::now() + Duration::from_secs(60);
    while counters.iter().any(|c| c.load(Ordering::Relaxed) < want) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A duplicate would follow right behind.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per: Vec<f64> = counters
        .iter()
        .map(|c| c.load(Ordering::Relaxed) as f64 / want as f64)
        .collect();
    r.missing = counters
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) < want)
        .count();
    r.posts_per_peer = (
        per.iter().cloned().fold(f64::INFINITY, f64::min),
        per.iter().cloned().fold(0.0, f64::max),
    );

    // O2: A holds `backfill` public statuses (with the ones above); E starts as A's org peer
    // and backfills them.
    for i in sizes.posts..sizes.backfill {
        post(&a, &author, &format!("org-wide news {i}")).await?;
    }
    let started = Instant::now();
    let mut read = 0;
    let mut max_id: Option<String> = None;
    while read < sizes.backfill {
        let mut req = http()
            .get(format!("{}/api/v1/timelines/public", a.base()))
            .query(&[("local", "true"), ("limit", "40")])
            .bearer_auth(&author);
        if let Some(m) = &max_id {
            req = req.query(&[("max_id", m.as_str())]);
        }
        let page: Value = req.send().await?.json().await?;
        let items = page.as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        read += items.len();
        max_id = items
            .last()
            .and_then(|s| s["id"].as_str())
            .map(String::from);
    }
    r.api_read_seconds = started.elapsed().as_secs_f64();
    let e_allowed = format!("[{}]", a.domain());
    // E logs at info: the backfill's start and end are read from its log.
    let backfill = vec![
        (
            "FIKA_FEDERATION_BACKFILL_STATUSES".into(),
            sizes.backfill.to_string(),
        ),
        ("FIKA_LOG_LEVEL".into(), "info,sqlx=warn".into()),
    ];
    start_with(ctx, &mut e, &e_allowed, backfill).await?;
    let e_log = e.data_dir.join("node-e.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(&e_log).unwrap_or_default();
        if Instant::now() > deadline {
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            bail!("E's backfill did not finish within 120 s; its log ends:\n{tail:#?}");
        }
        if log.contains("backfill done") {
            r.backfill_seconds = log_span(&log, "backfill of an org peer started", "backfill done")
                .unwrap_or(f64::NAN);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    r.backfill_stored = count(
        &e.db_url,
        "SELECT COUNT(*) FROM statuses WHERE content LIKE '%org-wide news%'",
    )
    .await?;
    for s in [&mut a, &mut e] {
        if let Some(p) = s.proc.take() {
            p.stop().await;
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Groups: a post into a group reaches members on other nodes through the group's node.

pub struct GroupSizes {
    pub posts: usize,
}

#[derive(Debug, Default)]
pub struct GroupResults {
    /// From a post on B until a follower's home stream on C shows it (the baseline: one hop).
    pub direct: Stats,
    /// From a post on B mentioning a group on A until a member's home stream on C shows the
    /// group's boost (two hops: B to A, A to C).
    pub via_group: Stats,
    /// Announce deliveries the group wrote per post (from A's log), lowest and highest, and
    /// the member nodes it has (B and C).
    pub deliveries_per_post: (f64, f64),
    pub member_nodes: usize,
    /// Boosts by the group stored more than once on C.
    pub duplicates: i64,
}

fn announce_deliveries(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains("post announced by the group"))
        .filter_map(|l| {
            let v = l.split("deliveries=").nth(1)?;
            v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        })
        .collect()
}

pub async fn group_run(ctx: &Ctx, sizes: &GroupSizes) -> Result<GroupResults> {
    let mut sites = [
        new_site(ctx, "group", "a"),
        new_site(ctx, "group", "b"),
        new_site(ctx, "group", "c"),
    ];
    let domains: Vec<String> = sites.iter().map(|s| s.domain()).collect();
    for (i, site) in sites.iter_mut().enumerate() {
        // Partners: what travels goes through follows and the group, nothing org-wide.
        let others: Vec<&str> = (0..3)
            .filter(|j| *j != i)
            .map(|j| domains[j].as_str())
            .collect();
        let mut env = vec![(
            "FIKA_FEDERATION_PARTNER_DOMAINS".to_string(),
            format!("[{}]", others.join(", ")),
        )];
        if i == 0 {
            // A logs at info: the group's announces are counted from its log.
            env.push(("FIKA_LOG_LEVEL".into(), "info,sqlx=warn".into()));
        }
        start_with(ctx, site, "[]", env).await?;
    }
    let [a, b, c] = &sites;
    let owner = user(ctx, a, "gwen").await?;
    let author = user(ctx, b, "bert").await?;
    let author2 = user(ctx, b, "bill").await?;
    let reader = user(ctx, c, "cleo").await?;
    let reader2 = user(ctx, c, "cora").await?;
    let r = http()
        .post(format!("{}/api/v1/groups", a.base()))
        .bearer_auth(&owner)
        .json(&json!({"name": "benchgroup"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("creating the group on A: {}", r.status());
    }
    let group = format!("benchgroup@{}", a.domain());
    follow(b, &author, &group).await?;
    follow(c, &reader, &group).await?;
    follow(c, &reader2, &format!("bill@{}", b.domain())).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let members = count(
            &a.db_url,
            "SELECT COUNT(*) FROM follows f JOIN accounts t ON t.id = f.target_account_id \
             WHERE t.username = 'benchgroup'",
        )
        .await?;
        let direct = count(
            &c.db_url,
            "SELECT COUNT(*) FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE a.username = 'cora'",
        )
        .await?;
        if members == 3 && direct == 1 {
            break;
        }
        if Instant::now() > deadline {
            bail!("group members {members} of 3, direct follows {direct} of 1");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut r = GroupResults {
        member_nodes: 2,
        ..GroupResults::default()
    };
    let mut direct_arrivals = watch(c, &reader2);
    latency_run(b, &author2, &mut direct_arrivals, 3, "gwarm").await?;
    (r.direct, _) = latency_run(b, &author2, &mut direct_arrivals, sizes.posts, "gdirect").await?;
    let mention = format!("@{group} ");
    let mut arrivals = watch(c, &reader);
    latency_run_with(b, &author, &mut arrivals, 3, "gwarm-group", &mention).await?;
    let before =
        announce_deliveries(&std::fs::read_to_string(a.data_dir.join("node-a.log"))?).len();
    (r.via_group, _) =
        latency_run_with(b, &author, &mut arrivals, sizes.posts, "ggroup", &mention).await?;
    // A duplicate would follow right behind.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per: Vec<f64> =
        announce_deliveries(&std::fs::read_to_string(a.data_dir.join("node-a.log"))?)
            .into_iter()
            .skip(before)
            .collect();
    r.deliveries_per_post = (
        per.iter().cloned().fold(f64::INFINITY, f64::min),
        per.iter().cloned().fold(0.0, f64::max),
    );
    if per.len() != sizes.posts {
        bail!("A logged {} announces for {} posts", per.len(), sizes.posts);
    }
    r.duplicates = count(
        &c.db_url,
        "SELECT COUNT(*) - COUNT(DISTINCT reblog_of_id) FROM statuses WHERE reblog_of_id IS NOT NULL",
    )
    .await?;
    for s in sites.iter_mut() {
        if let Some(p) = s.proc.take() {
            p.stop().await;
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Announcements: published on A to the organisation, read on B, counted back at A.

pub struct AnnounceSizes {
    pub rounds: usize,
}

#[derive(Debug, Default)]
pub struct AnnounceResults {
    /// From a status posted on A until B's follower stream shows it (the baseline).
    pub status_to_stream: Stats,
    /// From publishing an announcement on A until B's member stream gets `announcement`.
    pub announcement_to_stream: Stats,
    /// From a dismissal on B until A's admin API counts it (B reports at most every 3 s).
    pub read_counted: Stats,
}

pub async fn announce_run(ctx: &Ctx, sizes: &AnnounceSizes) -> Result<AnnounceResults> {
    let mut a = new_site(ctx, "announce", "a");
    let mut b = new_site(ctx, "announce", "b");
    let no_backfill = || {
        vec![(
            "FIKA_FEDERATION_BACKFILL_STATUSES".to_string(),
            "0".to_string(),
        )]
    };
    start_with(ctx, &mut a, &format!("[{}]", b.domain()), no_backfill()).await?;
    start_with(ctx, &mut b, &format!("[{}]", a.domain()), no_backfill()).await?;
    let env = vec![
        (
            "FIKA_DATA_DIR".to_string(),
            a.data_dir.display().to_string(),
        ),
        ("FIKA_DATABASE_URL".to_string(), a.db_url.clone()),
    ];
    let writer = user(ctx, &a, "ann").await?;
    fika_cli(
        &ctx.fika,
        &env,
        &["admin", "create-user", "comms", "--password-stdin"],
        Some("comms-bench-password\n"),
    )
    .await?;
    fika_cli(
        &ctx.fika,
        &env,
        &["admin", "set-role", "comms", "communicator"],
        None,
    )
    .await?;
    let comms = token_for(
        &a,
        "comms",
        "comms-bench-password",
        "read write admin:read admin:write",
    )
    .await?;
    let reader = user(ctx, &b, "bo").await?;
    follow(&b, &reader, &format!("ann@{}", a.domain())).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&a.db_url, "SELECT COUNT(*) FROM follows").await? < 1 {
        if Instant::now() > deadline {
            bail!("B's follow never reached A");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut r = AnnounceResults::default();
    let mut updates = watch(&b, &reader);
    latency_run(&a, &writer, &mut updates, 2, "awarm").await?;
    (r.status_to_stream, _) =
        latency_run(&a, &writer, &mut updates, sizes.rounds, "astatus").await?;
    let mut events = watch_events(&b, &reader, "announcement");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut to_stream, mut counted, mut errors) = (Vec::new(), Vec::new(), 0);
    let started = Instant::now();
    for i in 0..sizes.rounds {
        let marker = format!("bench-announcement-{i}-end");
        let t0 = Instant::now();
        let made: Value = http()
            .post(format!("{}/api/v1/admin/announcements", a.base()))
            .bearer_auth(&comms)
            .json(&json!({"text": format!("Notice {marker}"), "audience": "org"}))
            .send()
            .await?
            .json()
            .await?;
        let id = made["id"]
            .as_str()
            .ok_or_else(|| anyhow!("not published: {made}"))?
            .to_string();
        let mut b_id = None;
        let deadline = t0 + Duration::from_secs(10);
        while b_id.is_none() {
            match tokio::time::timeout_at(deadline.into(), events.recv()).await {
                Ok(Some((data, at))) if data.contains(&marker) => {
                    to_stream.push(at.duration_since(t0).as_secs_f64() * 1000.0);
                    let v: Value = serde_json::from_str(&data)?;
                    b_id = v["id"].as_str().map(String::from);
                }
                Ok(Some(_)) => continue,
                _ => break,
            }
        }
        let Some(b_id) = b_id else {
            errors += 1;
            continue;
        };
        let t1 = Instant::now();
        http()
            .post(format!("{}/api/v1/announcements/{b_id}/dismiss", b.base()))
            .bearer_auth(&reader)
            .send()
            .await?;
        let deadline = t1 + Duration::from_secs(15);
        loop {
            let s: Value = http()
                .get(format!("{}/api/v1/admin/announcements/{id}", a.base()))
                .bearer_auth(&comms)
                .send()
                .await?
                .json()
                .await?;
            let read = s["nodes"]
                .as_array()
                .and_then(|n| n.iter().find(|n| n["node"] == b.domain().as_str()))
                .and_then(|n| n["read"].as_i64())
                .unwrap_or(0);
            if read == 1 {
                counted.push(t1.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if Instant::now() > deadline {
                errors += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    r.announcement_to_stream = Stats::from_samples(to_stream, errors, seconds);
    r.read_counted = Stats::from_samples(counted, 0, seconds);
    for s in [&mut a, &mut b] {
        if let Some(p) = s.proc.take() {
            p.stop().await;
        }
    }
    Ok(r)
}

/// A password-grant token for an existing user.
async fn token_for(site: &Site, name: &str, password: &str, scopes: &str) -> Result<String> {
    let base = site.base();
    let app: Value = http()
        .post(format!("{base}/api/v1/apps"))
        .json(&json!({"client_name": "fika-bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes}))
        .send()
        .await?
        .json()
        .await?;
    let token: Value = http()
        .post(format!("{base}/oauth/token"))
        .json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                      "username": name, "password": password, "scope": scopes}))
        .send()
        .await?
        .json()
        .await?;
    token["access_token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no token for {name}: {token}"))
}

pub struct PushSizes {
    /// Mentions posted to the subscribed user, each a notification and a push.
    pub mentions: usize,
}

pub struct PushResults {
    /// Mentions posted per second (8 at a time).
    pub posted_per_s: f64,
    /// Pushes received per second over the same burst, from the first post to the last push.
    pub pushed_per_s: f64,
    /// From the last post until its push arrived.
    pub lag_after_last_ms: f64,
    /// Plain POSTs of a push's size to the same receiver, 32 at a time: the receiver's ceiling.
    pub raw_posts_per_s: f64,
    pub received: usize,
}

/// A push service on loopback: counts POSTs that carry an encrypted body and a VAPID token.
async fn push_receiver(port: u16, count: Arc<AtomicUsize>) -> Result<()> {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let count = count.clone();
            async move {
                let encrypted = headers
                    .get("content-encoding")
                    .is_some_and(|v| v == "aes128gcm");
                let vapid = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("vapid t="));
                if encrypted && vapid && body.len() > 86 {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                StatusCode::CREATED
            }
        }),
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}

/// A user agent's keys as a browser makes them: a P-256 point and a 16-byte secret (base64url).
fn user_agent_keys() -> Result<(String, String)> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let encode = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
    let key = openssl::ec::EcKey::generate(&group)?;
    let mut ctx = openssl::bn::BigNumContext::new()?;
    let point = key.public_key().to_bytes(
        &group,
        openssl::ec::PointConversionForm::UNCOMPRESSED,
        &mut ctx,
    )?;
    let mut auth = [0u8; 16];
    openssl::rand::rand_bytes(&mut auth)?;
    Ok((encode(&point), encode(&auth)))
}

/// W1: a burst of mentions to a user with a Web Push subscription; do the pushes keep up?
pub async fn push_run(ctx: &Ctx, sizes: &PushSizes) -> Result<PushResults> {
    let mut a = new_site(ctx, "push", "a");
    let env = vec![
        ("FIKA_PUSH_ALLOW_HTTP".to_string(), "true".to_string()),
        (
            "FIKA_PUSH_ALLOW_PRIVATE_ADDRESSES".to_string(),
            "true".to_string(),
        ),
    ];
    start_with(ctx, &mut a, "[]", env).await?;
    let count = Arc::new(AtomicUsize::new(0));
    let port = free_port();
    push_receiver(port, count.clone()).await?;
    let base = format!("http://127.0.0.1:{}", a.listen_port);
    let c = http();

    // The receiver's ceiling: plain POSTs of a push's size, 32 at a time.
    let body = vec![7u8; 400];
    let raw_n = sizes.mentions.max(100);
    let started = Instant::now();
    futures_util::stream::iter(0..raw_n)
        .map(|i| {
            let (c, body) = (c.clone(), body.clone());
            async move {
                c.post(format!("http://127.0.0.1:{port}/push/raw{i}"))
                    .body(body)
                    .send()
                    .await
            }
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
    let raw_posts_per_s = raw_n as f64 / started.elapsed().as_secs_f64();

    let pushee = user_with(ctx, &a, "pushee", "read write follow push").await?;
    let poster = user(ctx, &a, "poster").await?;
    let (p256dh, auth) = user_agent_keys()?;
    let sub: Value = c
        .post(format!("{base}/api/v1/push/subscription"))
        .bearer_auth(&pushee)
        .json(
            &json!({"subscription": {"endpoint": format!("http://127.0.0.1:{port}/push/pushee"),
                      "keys": {"p256dh": p256dh, "auth": auth}},
                      "data": {"alerts": {"mention": true}, "policy": "all"}}),
        )
        .send()
        .await?
        .json()
        .await?;
    if sub["alerts"]["mention"] != true {
        bail!("the push subscription was not made: {sub}");
    }
    let before = count.load(Ordering::Relaxed);
    let started = Instant::now();
    let errors = Arc::new(AtomicUsize::new(0));
    futures_util::stream::iter(0..sizes.mentions)
        .map(|i| {
            let (c, poster, base, errors) =
                (c.clone(), poster.clone(), base.clone(), errors.clone());
            async move {
                let r = c
                    .post(format!("{base}/api/v1/statuses"))
                    .bearer_auth(&poster)
                    .json(&json!({"status": format!("@pushee burst {i}")}))
                    .send()
                    .await;
                if !r.is_ok_and(|r| r.status().is_success()) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .buffer_unordered(8)
        .for_each(|_| async {})
        .await;
    let posted = started.elapsed();
    let want = before + sizes.mentions - errors.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pushed = started.elapsed();
    let received = count.load(Ordering::Relaxed) - before;
    if let Some(p) = a.proc.take() {
        p.stop().await;
    }
    Ok(PushResults {
        posted_per_s: sizes.mentions as f64 / posted.as_secs_f64(),
        pushed_per_s: received as f64 / pushed.as_secs_f64(),
        lag_after_last_ms: (pushed - posted).as_secs_f64() * 1000.0,
        raw_posts_per_s,
        received,
    })
}
