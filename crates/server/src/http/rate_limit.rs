//! Rate limits per API key: a token bucket (GCRA, the `governor` crate) of
//! `burst` requests refilled at `requests_per_second`, kept in each node's
//! memory — with N nodes behind a balancer a key may make up to N times
//! the rate. Every authenticated answer carries `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset`; a request over the limit
//! is `429 rate_limited` with `Retry-After`, and changed nothing.
//!
//! Settings: `[rate_limit]` in the TOML file, `INFLOW_RATE_LIMIT__<FIELD>`
//! in the environment; `requests_per_second = 0` turns limits off.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::auth::Auth;

/// `[rate_limit]`: how fast one API key may call, per node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Sustained requests per second per API key (0: no limit).
    pub requests_per_second: u32,
    /// Requests a key may make at once before the rate applies (at least 1).
    pub burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        // Generous: an integration or a test suite does not meet it; a
        // runaway loop does.
        Self {
            requests_per_second: 100,
            burst: 1000,
        }
    }
}

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The limiter of one node (cheap to clone).
#[derive(Clone)]
pub struct RateLimits {
    limiter: Arc<KeyedLimiter>,
    quota: Quota,
}

impl RateLimits {
    /// `None` when the settings turn limits off.
    pub fn new(settings: &RateLimitSettings) -> Option<Self> {
        let rate = NonZeroU32::new(settings.requests_per_second)?;
        let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(burst);
        let limiter = RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>();
        Some(Self {
            limiter: Arc::new(limiter),
            quota,
        })
    }

    /// Take one request from `key`'s bucket: the headers to send, or the
    /// refusal.
    fn check(&self, key: &str) -> Result<HeaderMap, ApiError> {
        let limit = self.quota.burst_size().get();
        match self.limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                // Until the bucket is full again.
                let reset = self.quota.replenish_interval() * (limit - remaining.min(limit));
                Ok(headers(limit, remaining, seconds_up(reset)))
            }
            Err(not_until) => {
                let wait = seconds_up(not_until.wait_time_from(self.limiter.clock().now())).max(1);
                let mut e = ApiError::rate_limited(format!(
                    "this API key made more than {limit} requests at once or more than {}/s; retry after {wait} s",
                    per_second(&self.quota)
                ));
                e.retry_after = Some(wait);
                e.headers = Some(Box::new(headers(limit, 0, wait)));
                Err(e)
            }
        }
    }
}

/// The sustained rate of `quota`, in requests per second (for messages).
fn per_second(quota: &Quota) -> u64 {
    let nanos = quota.replenish_interval().as_nanos().max(1);
    u64::try_from(1_000_000_000u128 / nanos).unwrap_or(u64::MAX)
}

fn seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn headers(limit: u32, remaining: u32, reset_secs: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("ratelimit-limit", HeaderValue::from(limit));
    h.insert("ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("ratelimit-reset", HeaderValue::from(reset_secs));
    h
}

/// Middleware, after authentication: one bucket per API key.
pub async fn limit(State(limits): State<Option<RateLimits>>, req: Request, next: Next) -> Response {
    let (Some(limits), Some(auth)) = (limits, req.extensions().get::<Auth>()) else {
        return next.run(req).await;
    };
    match limits.check(auth.key_id.as_str()) {
        Ok(headers) => {
            let mut resp = next.run(req).await;
            resp.headers_mut().extend(headers);
            resp
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait_per_key() {
        let limits = RateLimits::new(&RateLimitSettings {
            requests_per_second: 1,
            burst: 3,
        })
        .unwrap();
        for left in [2, 1, 0] {
            let h = limits.check("a").unwrap();
            assert_eq!(h["ratelimit-remaining"], left.to_string().as_str());
            assert_eq!(h["ratelimit-limit"], "3");
        }
        let refused = limits.check("a").unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.code, "rate_limited");
        assert_eq!(refused.retry_after, Some(1));
        assert!(limits.check("b").is_ok(), "another key has its own bucket");
    }

    #[test]
    fn zero_turns_limits_off() {
        assert!(RateLimits::new(&RateLimitSettings {
            requests_per_second: 0,
            burst: 10
        })
        .is_none());
    }
}
