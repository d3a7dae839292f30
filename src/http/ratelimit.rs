//! A fixed-window rate limiter per access token (or per client address without one), with
//! Mastodon's `X-RateLimit-*` headers on every client API response.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

pub struct RateLimiter {
    limit: u32,
    window_secs: u64,
    buckets: Mutex<HashMap<String, (u64, u32)>>,
}

pub struct Decision {
    pub allowed: bool,
    pub remaining: u32,
    pub reset_at: u64,
}

impl RateLimiter {
    pub fn new(limit: u32, window_secs: u64) -> Arc<RateLimiter> {
        Arc::new(RateLimiter {
            limit,
            window_secs,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one request for `key` at `now` (seconds since the epoch).
    pub fn check(&self, key: &str, now: u64) -> Decision {
        let window = now / self.window_secs;
        let reset_at = (window + 1) * self.window_secs;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 50_000 {
            buckets.retain(|_, (w, _)| *w == window);
        }
        let entry = buckets.entry(key.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.limit {
            return Decision {
                allowed: false,
                remaining: 0,
                reset_at,
            };
        }
        entry.1 += 1;
        Decision {
            allowed: true,
            remaining: self.limit - entry.1,
            reset_at,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
}

fn key_for(headers: &HeaderMap, query: Option<&str>, client: Option<IpAddr>) -> String {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_string()))
        .or_else(|| {
            query.and_then(|q| {
                serde_html_form::from_str::<Vec<(String, String)>>(q)
                    .ok()?
                    .into_iter()
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v)
            })
        });
    match token {
        // Keyed by a digest so the table never holds usable tokens.
        Some(t) => format!("t:{}", &crate::domain::oauth::digest(&t)[..32]),
        None => format!("ip:{}", client.map(|ip| ip.to_string()).unwrap_or_default()),
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = super::client_ip(&state, &request);
    let key = key_for(request.headers(), request.uri().query(), client);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let limiter = &state.rate_limiter;
    let decision = limiter.check(&key, now);
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        tracing::warn!(key = %key, "rate limit exceeded");
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response()
    };
    let reset = chrono::DateTime::from_timestamp(decision.reset_at as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", limiter.limit().to_string()),
        ("x-ratelimit-remaining", decision.remaining.to_string()),
        ("x-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_window() {
        let l = RateLimiter::new(2, 300);
        assert!(l.check("a", 1000).allowed);
        let second = l.check("a", 1000);
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert!(!l.check("a", 1001).allowed);
        assert!(l.check("b", 1001).allowed, "keys are independent");
        assert!(l.check("a", 1200).allowed, "a new window starts over");
        assert_eq!(l.check("a", 1200).reset_at, 1500);
    }
}
