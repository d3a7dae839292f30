//! Processes under test: `fika` nodes and the hello-world baseline, with their memory and
//! start-up time read from the operating system.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A `fika` command with none of the caller's FIKA_ settings.
pub fn fika_command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars() {
        if key.starts_with("FIKA_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    // FIKA_BENCH_NODE_LOG sets the nodes' log level, to see what they do during a run.
    let level = std::env::var("FIKA_BENCH_NODE_LOG").unwrap_or_else(|_| "warn".into());
    cmd.env("FIKA_LOG_LEVEL", level);
    cmd.kill_on_drop(true);
    cmd
}

/// Runs a `fika` CLI command to completion; its stdout on success.
pub async fn fika_cli(
    bin: &Path,
    env: &[(String, String)],
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String> {
    use tokio::io::AsyncWriteExt;
    let mut cmd = fika_command(bin);
    cmd.args(args)
        .envs(env.iter().cloned())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running {}", bin.display()))?;
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!(
            "fika {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub struct Proc {
    pub child: Child,
    pub base: String,
    /// Spawn until the first answered request.
    pub startup: Duration,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// (VmRSS, VmHWM) in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.pid())
    }

    /// Sends SIGTERM and waits (kills after 20 s).
    pub async fn stop(mut self) {
        let pid = self.pid();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) a process has used, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Spawns `cmd` (stderr to `log`) and polls `probe_path` until it answers 2xx.
pub async fn spawn_and_wait(
    mut cmd: Command,
    port: u16,
    log: &Path,
    probe_path: &str,
) -> Result<Proc> {
    let stderr = std::fs::File::create(log)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true);
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}{probe_path}");
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(2))
        .build()?;
    let started = Instant::now();
    let mut child = cmd.spawn().context("spawning a process under test")?;
    loop {
        if let Ok(r) = client.get(&url).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "process exited with {status} before answering; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("process did not answer {url} within 120 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    Ok(Proc {
        child,
        base,
        startup: started.elapsed(),
    })
}

/// Settings for a node under test.
pub struct NodeSpec<'a> {
    pub bin: &'a Path,
    pub data_dir: &'a Path,
    pub database_url: &'a str,
    pub port: u16,
    pub extra: Vec<(String, String)>,
}

impl NodeSpec<'_> {
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("FIKA_DATA_DIR".into(), self.data_dir.display().to_string()),
            ("FIKA_DATABASE_URL".into(), self.database_url.to_string()),
            (
                "FIKA_SERVER_LISTEN".into(),
                format!("127.0.0.1:{}", self.port),
            ),
            // The benchmark measures the node, not the rate limiter's refusals.
            (
                "FIKA_LIMITS_REQUESTS_PER_WINDOW".into(),
                "4000000000".into(),
            ),
        ];
        env.extend(self.extra.iter().cloned());
        // FIKA_BENCH_NODE_ENV="KEY=VALUE,..." passes settings to every node, to compare
        // configurations (e.g. FIKA_DATABASE_MAX_CONNECTIONS=4).
        if let Ok(extra) = std::env::var("FIKA_BENCH_NODE_ENV") {
            for pair in extra.split(',').filter(|p| !p.is_empty()) {
                if let Some((k, v)) = pair.split_once('=') {
                    env.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
        }
        env
    }

    pub async fn start(&self, log_name: &str) -> Result<Proc> {
        let mut cmd = fika_command(self.bin);
        cmd.arg("serve").envs(self.env());
        let log = self.data_dir.join(log_name);
        spawn_and_wait(cmd, self.port, &log, "/api/v1/instance").await
    }
}
