//! Prometheus metrics for sysadmins' monitoring: request counts and latency, the delivery
//! queue, delivery failures per peer, the inbox queue, accounts. Served at `/metrics` to addresses in
//! `metrics.allowed_addresses` or to an admin's token.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// Latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Counters kept in memory since the process started.
#[derive(Default)]
pub struct Metrics {
    /// (route group, method, status class) → series.
    requests: Mutex<BTreeMap<(String, String, String), Series>>,
}

/// Groups paths so metrics do not grow with every id: the first two segments.
fn route_group(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("api"), Some(v)) => format!("/api/{v}/{}", parts.next().unwrap_or("")),
        (Some("users"), _) => "/users".into(),
        (Some(".well-known"), Some(w)) => format!("/.well-known/{w}"),
        (Some(first), _) if !first.is_empty() && !first.starts_with('@') => format!("/{first}"),
        _ => "/".into(),
    }
}

pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let group = route_group(request.uri().path());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let class = format!("{}xx", response.status().as_u16() / 100);
    let mut map = state
        .metrics
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let s = map.entry((group, method, class)).or_default();
    s.count += 1;
    s.sum += elapsed;
    for (i, le) in BUCKETS.iter().enumerate() {
        if elapsed <= *le {
            s.buckets[i] += 1;
        }
    }
    response
}

fn address_allowed(state: &AppState, ip: IpAddr) -> bool {
    state
        .node
        .config
        .metrics
        .allowed_addresses
        .iter()
        .any(|cidr| cidr_contains(cidr, ip))
}

/// `10.0.0.0/8`-style ranges (a bare address is a single host).
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        (IpAddr::V4(_), IpAddr::V6(i)) => i
            .to_ipv4_mapped()
            .is_some_and(|v4| cidr_contains(cidr, IpAddr::V4(v4))),
        _ => false,
    }
}

pub async fn serve(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let client = super::client_ip(&state, &request);
    let by_address = client.is_some_and(|ip| address_allowed(&state, ip));
    if !by_address {
        let (parts, _) = request.into_parts();
        let token = super::mastodon::extract::bearer_token(&parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "metrics need an admin token or an allowed address",
            )
        })?;
        let auth = super::mastodon::extract::authenticate(&state, &token).await?;
        let me = auth.user("admin:read")?;
        if me.role != "admin" {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "metrics are for admins",
            ));
        }
    }
    let mut out = String::new();
    {
        let map = state
            .metrics
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP fika_http_requests_total HTTP requests answered, by route group, method and status class.\n");
        out.push_str("# TYPE fika_http_requests_total counter\n");
        for ((route, method, class), s) in map.iter() {
            let _ = writeln!(out, "fika_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{class}\"}} {}", s.count);
        }
        out.push_str("# HELP fika_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE fika_http_request_duration_seconds histogram\n");
        for ((route, method, class), s) in map.iter() {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{class}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "fika_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "fika_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "fika_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "fika_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
    let gauges = crate::domain::instance::gauges(&state.node).await?;
    out.push_str("# HELP fika_delivery_queue Deliveries to peers waiting (pending) or given up (dead), per peer.\n");
    out.push_str("# TYPE fika_delivery_queue gauge\n");
    for (peer, st, n) in &gauges.delivery_queue {
        let _ = writeln!(
            out,
            "fika_delivery_queue{{peer=\"{peer}\",state=\"{st}\"}} {n}"
        );
    }
    out.push_str(
        "# HELP fika_delivery_failures Failed attempts of the deliveries still queued, per peer.\n",
    );
    out.push_str("# TYPE fika_delivery_failures gauge\n");
    for (peer, n) in &gauges.delivery_failures {
        let _ = writeln!(out, "fika_delivery_failures{{peer=\"{peer}\"}} {n}");
    }
    out.push_str("# HELP fika_inbox_queue Activities from peers accepted and waiting to be processed (or retried).\n");
    out.push_str("# TYPE fika_inbox_queue gauge\n");
    let _ = writeln!(out, "fika_inbox_queue {}", gauges.inbox_queue);
    out.push_str("# HELP fika_local_accounts Local accounts that are not suspended.\n# TYPE fika_local_accounts gauge\n");
    let _ = writeln!(out, "fika_local_accounts {}", gauges.local_accounts);
    out.push_str("# HELP fika_active_users Local accounts that posted in the last 30 days.\n# TYPE fika_active_users gauge\n");
    let _ = writeln!(out, "fika_active_users {}", gauges.active_users);
    out.push_str("# HELP fika_backfill_statuses Statuses an org peer's backfill read (fetched) and stored here (stored), per peer and state.\n");
    out.push_str("# TYPE fika_backfill_statuses gauge\n");
    for (peer, st, fetched, stored) in &gauges.backfills {
        let _ = writeln!(
            out,
            "fika_backfill_statuses{{peer=\"{peer}\",state=\"{st}\",count=\"fetched\"}} {fetched}"
        );
        let _ = writeln!(
            out,
            "fika_backfill_statuses{{peer=\"{peer}\",state=\"{st}\",count=\"stored\"}} {stored}"
        );
    }
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(cidr_contains("127.0.0.1/32", ip("127.0.0.1")));
        assert!(cidr_contains("10.0.0.0/8", ip("10.20.30.40")));
        assert!(!cidr_contains("10.0.0.0/8", ip("11.0.0.1")));
        assert!(cidr_contains("::1", ip("::1")));
        assert!(cidr_contains("127.0.0.0/8", ip("::ffff:127.0.0.1")));
        assert!(!cidr_contains("garbage", ip("127.0.0.1")));
    }

    #[test]
    fn groups() {
        assert_eq!(
            route_group("/api/v1/statuses/123/favourite"),
            "/api/v1/statuses"
        );
        assert_eq!(route_group("/users/ada/statuses/1"), "/users");
        assert_eq!(
            route_group("/.well-known/webfinger"),
            "/.well-known/webfinger"
        );
        assert_eq!(route_group("/@ada"), "/");
        assert_eq!(route_group("/inbox"), "/inbox");
    }
}
