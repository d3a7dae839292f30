//! Test harness: real `fika` processes on loopback ports, each with its own database.
//!
//! `FIKA_TEST_BACKEND=postgres` runs every test against a fresh PostgreSQL database on
//! `FIKA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`), dropped afterwards;
//! otherwise each test gets a SQLite file in a temporary directory.
#![allow(dead_code)] // each test binary uses part of the harness

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::Connection;

pub const BIN: &str = env!("CARGO_BIN_EXE_fika");
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub fn postgres_base_url() -> String {
    std::env::var("FIKA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn backend_is_postgres() -> bool {
    std::env::var("FIKA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// One node's storage: a data directory and a database that disappear with the value.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub url: String,
    pg_name: Option<String>,
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        if !backend_is_postgres() {
            let url = format!("sqlite://{}", dir.path().join("fika.db").display());
            return TestDb {
                dir,
                url,
                pg_name: None,
            };
        }
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "fika_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand_suffix()
        );
        let admin_url = format!("{}/postgres", postgres_base_url());
        let create = format!("CREATE DATABASE {name}");
        // In its own thread so that it also works from inside a test's async runtime.
        std::thread::spawn(move || {
            block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to the test PostgreSQL server");
                sqlx::query(&create)
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
            })
        })
        .join()
        .expect("create database thread");
        let url = format!("{}/{name}", postgres_base_url());
        TestDb {
            dir,
            url,
            pg_name: Some(name),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The environment that points a `fika` process at this storage.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "FIKA_DATA_DIR".into(),
                self.dir.path().display().to_string(),
            ),
            ("FIKA_DATABASE_URL".into(), self.url.clone()),
        ]
    }

    /// Runs `fika ARGS` against this storage and waits for it.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, None)
    }

    pub fn cli_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = base_command();
        cmd.args(args).envs(self.env());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn fika");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().expect("wait for fika")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin_url = format!("{}/postgres", postgres_base_url());
            let _ = std::thread::spawn(move || {
                block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(&drop).execute(&mut conn).await;
                    }
                })
            })
            .join();
        }
    }
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

/// A `fika` command with a clean environment: no settings leak in from the developer's shell.
pub fn base_command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("FIKA_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("FIKA_LOG_LEVEL", "info,sqlx=warn");
    cmd
}

/// A port nobody listens on right now, below the kernel's ephemeral range (32768 and up on
/// Linux): a port handed out by `bind(0)` and released can be handed again to another test's
/// node or taken by an outgoing connection before the node binds it. Each test process walks
/// its own stretch of the range (by pid), one port per call.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    const FIRST: usize = 20_000;
    const SPAN: usize = 12_000;
    let start = (std::process::id() as usize * 97) % SPAN;
    for _ in 0..SPAN {
        let port = FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + SPAN)
}

/// A running node.
pub struct Node {
    child: Option<Child>,
    pub port: u16,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub domain: String,
    /// The first admin's password, when this start created the account.
    pub admin_password: Option<String>,
    pub stderr_path: PathBuf,
}

impl Node {
    pub fn start(db: &TestDb) -> Node {
        Self::start_on(db, free_port(), &[])
    }

    pub fn start_on(db: &TestDb, port: u16, extra_env: &[(&str, &str)]) -> Node {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let stderr_path = db.data_dir().join(format!(
            "stderr-{}.log",
            STARTS.fetch_add(1, Ordering::Relaxed)
        ));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log");
        let mut cmd = base_command();
        cmd.arg("serve")
            .envs(db.env())
            .env("FIKA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .envs(
                extra_env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("spawn fika serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut admin_password = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(p) = line.trim().strip_prefix("password: ") {
                        admin_password = Some(p.to_string());
                    }
                    if line.starts_with("fika listening on") {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                    panic!("node did not start on port {port}; its log:\n{log}");
                }
            }
        }
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        let domain = format!("127.0.0.1:{port}");
        Node {
            child: Some(child),
            port,
            base: format!("http://{domain}"),
            domain,
            admin_password,
            stderr_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        terminate(&mut child)
    }

    /// Kills the process with SIGKILL, as a crash or the OOM killer would: no shutdown at all,
    /// in-flight requests and sends cut off. Waits for it to be gone.
    pub fn kill(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        child.kill().expect("SIGKILL");
        child.wait().expect("wait after SIGKILL")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

fn terminate(child: &mut Child) -> ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---- Client API helpers ----

use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct Api {
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(client().get(self.url(path))).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(client().post(self.url(path)), body).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(client().put(self.url(path)), body).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(client().patch(self.url(path)), body).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(client().delete(self.url(path))).await
    }
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = request.bearer_auth(&self.token).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn send_json(
        &self,
        request: reqwest::RequestBuilder,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = request
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub async fn register_app(node: &Node, scopes: &str) -> (String, String) {
    let r: Value = client()
        .post(node.url("/api/v1/apps"))
        .form(&[
            ("client_name", "tests"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", scopes),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        r["client_id"].as_str().unwrap().to_string(),
        r["client_secret"].as_str().unwrap().to_string(),
    )
}

pub async fn login(node: &Node, user: &str, password: &str, scopes: &str) -> Api {
    let (id, secret) = register_app(node, "read write follow push admin:read admin:write").await;
    let r = client()
        .post(node.url("/oauth/token"))
        .json(&json!({
            "grant_type": "password", "client_id": id, "client_secret": secret,
            "username": user, "password": password, "scope": scopes,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    Api {
        base: node.base.clone(),
        token: token["access_token"].as_str().unwrap().to_string(),
    }
}

pub fn create_user(db: &TestDb, name: &str) -> String {
    let password = format!("{name}-password-123");
    let out = db.cli_with_stdin(
        &[
            "admin",
            "create-user",
            name,
            "--email",
            &format!("{name}@hq.example"),
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    password
}

pub fn start_with_password_grant(db: &TestDb) -> Node {
    Node::start_on(db, free_port(), &[("FIKA_OAUTH_PASSWORD_GRANT", "true")])
}

// ---- Signed requests as a real node's own actor ----

/// Runs one statement against a node's database, on either backend (`$n` placeholders, text
/// values).
pub async fn db_execute(db: &TestDb, sql: &str, binds: &[&str]) {
    if db.url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut conn).await.unwrap();
    }
}

/// One value read from a node's database, on either backend.
pub async fn db_scalar<T>(db: &TestDb, sql: &str, binds: &[&str]) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + Send
        + Unpin,
{
    if db.url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(&mut conn).await.unwrap()
    }
}

/// The private key of a node's own actor (`/actor`), read from its database, so a test can make
/// requests exactly as that node would.
pub async fn node_private_key(db: &TestDb) -> String {
    db_scalar(
        db,
        "SELECT private_key_pem FROM node_keys WHERE id = 1",
        &[],
    )
    .await
}

/// The private key of a local user, so a test can sign exactly as that user's node would.
pub async fn local_private_key(db: &TestDb, username: &str) -> String {
    db_scalar(
        db,
        "SELECT private_key_pem FROM accounts WHERE username = $1 AND domain = ''",
        &[username],
    )
    .await
}

/// A GET signed with `key_pem` as `key_id` (draft-cavage, as peers sign).
pub async fn signed_get(url: &str, key_pem: &str, key_id: &str) -> reqwest::Response {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let key = fika_federation::signatures::parse_private_key(key_pem).unwrap();
    let headers = fika_federation::signatures::sign(
        &key,
        key_id,
        "GET",
        &host,
        &path,
        None,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let mut request = client()
        .get(url)
        .header("accept", "application/activity+json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

/// A POST of `body` signed with `key_pem` as `key_id`, with its Digest.
pub async fn signed_post(
    url: &str,
    body: &Value,
    key_pem: &str,
    key_id: &str,
) -> reqwest::Response {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let bytes = serde_json::to_vec(body).unwrap();
    let key = fika_federation::signatures::parse_private_key(key_pem).unwrap();
    let headers = fika_federation::signatures::sign(
        &key,
        key_id,
        "POST",
        &host,
        parsed.path(),
        Some(&bytes),
        std::time::SystemTime::now(),
    )
    .unwrap();
    let mut request = client()
        .post(url)
        .header("content-type", "application/activity+json")
        .body(bytes);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

/// Polls `check` until it returns Some, for up to 30 seconds (a loaded machine once took
/// longer than 15 for a delivery between two debug-built nodes).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `api`'s home timeline once it holds every status in `ids`. Home feeds other than the
/// author's are written by the fan-out worker just after a status is posted, so a test that
/// reads a follower's home right after posting waits for this first, then asserts on the page.
pub async fn home_once_it_has(api: &Api, ids: &[&str]) -> Value {
    eventually(&format!("home timeline holding {ids:?}"), || async {
        let (_, home) = api.get("/api/v1/timelines/home").await;
        let held: Vec<&str> = home
            .as_array()?
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect();
        ids.iter()
            .all(|id| held.contains(id))
            .then_some(home.clone())
    })
    .await
}

/// A server-sent-events stream of the client API, read event by event.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    pub async fn open(api: &Api, path: &str) -> Stream {
        let response = client()
            .get(api.url(path))
            .bearer_auth(&api.token)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Stream {
            response,
            buffer: String::new(),
        }
    }

    /// The next `(event, data)`, skipping keep-alive comments.
    pub async fn next(&mut self) -> (String, String) {
        let read = async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let (mut event, mut data) = (String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_string();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if !event.is_empty() {
                        return (event, data);
                    }
                    continue;
                }
                let chunk = self.response.chunk().await.unwrap().expect("stream ended");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("no streaming event within 20 s")
    }

    /// Status ids of the `update` events up to and including the one for `last`.
    pub async fn updates_until(&mut self, last: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let (event, data) = self.next().await;
            if event != "update" {
                continue;
            }
            let status: Value = serde_json::from_str(&data).unwrap();
            let id = status["id"].as_str().unwrap().to_string();
            seen.push(id.clone());
            if id == last {
                return seen;
            }
        }
    }
}
