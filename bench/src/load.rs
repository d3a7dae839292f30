//! Closed-loop HTTP load: each connection sends its next request when the previous one is
//! answered. The same generator drives the node and the hello-world baseline, so its own cost
//! appears on both sides of every ratio.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latencies of one measurement window (warm-up excluded), in milliseconds, sorted.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub ok: usize,
    pub errors: usize,
    pub seconds: f64,
    pub ms: Vec<f64>,
}

impl Stats {
    pub fn from_samples(mut ms: Vec<f64>, errors: usize, seconds: f64) -> Stats {
        ms.sort_by(|a, b| a.total_cmp(b));
        Stats {
            ok: ms.len(),
            errors,
            seconds,
            ms,
        }
    }

    /// Percentile `q` (0..=100) in milliseconds; NaN without samples.
    pub fn p(&self, q: f64) -> f64 {
        percentile(&self.ms, q)
    }

    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": self.ok, "errors": self.errors, "seconds": self.seconds,
            "per_second": self.rate(), "p50_ms": self.p(50.0), "p90_ms": self.p(90.0),
            "p99_ms": self.p(99.0),
        })
    }
}

pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub type Outcome = Pin<Box<dyn Future<Output = bool> + Send>>;

/// One request: given the connection's client, the connection number and the iteration,
/// returns whether the answer was the expected one.
pub type RequestFn = Arc<dyn Fn(reqwest::Client, usize, u64) -> Outcome + Send + Sync>;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Runs `connections` closed loops for `warmup + window`; samples from the warm-up are dropped.
pub async fn run(
    connections: usize,
    warmup: Duration,
    window: Duration,
    request: RequestFn,
) -> Stats {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let mut tasks = Vec::new();
    for conn in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let client = client();
            let (mut ms, mut errors) = (Vec::new(), 0usize);
            let mut i = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let ok = request(client.clone(), conn, i).await;
                i += 1;
                if t >= measure_from {
                    if ok {
                        ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (ms, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (ms, e) = t.await.expect("load task");
        all.extend(ms);
        errors += e;
    }
    let seconds = (Instant::now().min(end + Duration::from_secs(30)) - measure_from).as_secs_f64();
    Stats::from_samples(all, errors, seconds.max(window.as_secs_f64()))
}

/// A GET expecting 200, with an optional bearer token chosen per connection and iteration.
pub fn get(url: String, tokens: Arc<Vec<String>>) -> RequestFn {
    Arc::new(move |client: reqwest::Client, conn, i| {
        let url = url.clone();
        let token = if tokens.is_empty() {
            None
        } else {
            Some(tokens[(conn * 7919 + i as usize) % tokens.len()].clone())
        };
        Box::pin(async move {
            let mut r = client.get(&url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            match r.send().await {
                Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
                _ => false,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let s = Stats::from_samples((1..=100).map(|v| v as f64).rev().collect(), 0, 1.0);
        assert_eq!(s.p(0.0), 1.0);
        assert_eq!(s.p(50.0), 51.0);
        assert_eq!(s.p(99.0), 99.0);
        assert_eq!(s.p(100.0), 100.0);
        assert!(Stats::default().p(50.0).is_nan());
    }
}
