//! Request rate limits: a token bucket per client address (every request, before
//! authentication) and one per credential (after it, so a forged key id cannot spend someone
//! else's budget). Over the limit: 429 `RATE_LIMITED` with `Retry-After`, in the dialect's
//! format. Buckets live in this process: with several instances, each allows the full rate
//! (documented in docs/decisions/0010).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Requests per minute and burst; `0` per minute turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    pub const OFF: RateLimit = RateLimit {
        per_minute: 0,
        burst: 0,
    };
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// More keys than this and idle buckets (full again) are dropped, so memory stays bounded.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug)]
pub(crate) struct Limiter<K> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(seconds)` says when the next one is available.
    pub(crate) fn take(&self, key: &K, now: Instant) -> Result<(), u64> {
        if self.limit.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.limit.per_minute) / 60.0;
        let burst = f64::from(self.limit.burst.max(1));
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// The middleware applying the per-address limit to every request but the health and metrics
/// probes.
pub(crate) async fn limit_by_ip(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    if let Some(state) = req.app_data::<actix_web::web::Data<crate::AppState>>() {
        let probe = matches!(req.path(), "/healthz" | "/readyz" | "/metrics");
        if !probe {
            if let Some(ip) =
                crate::client_ip::client_ip(req.request(), &state.config.trusted_proxies)
            {
                if let Err(secs) = state.rate_limits.per_ip.take(&ip, Instant::now()) {
                    let err = too_many(crate::Dialect::of(req.request()), secs);
                    let res = actix_web::ResponseError::error_response(&err);
                    return Ok(req.into_response(res).map_into_right_body());
                }
            }
        }
    }
    next.call(req)
        .await
        .map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// 429 `RATE_LIMITED` with `Retry-After`.
pub(crate) fn too_many(dialect: crate::Dialect, retry_after: u64) -> crate::ApiError {
    let mut e = crate::ApiError::new(
        dialect,
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        format!("Too many requests; retry in {retry_after} s"),
    );
    e.retry_after_secs = Some(retry_after);
    e
}

/// The server's limiters.
#[derive(Debug)]
pub struct RateLimits {
    pub(crate) per_ip: Limiter<IpAddr>,
    pub(crate) per_credential: Limiter<String>,
}

impl RateLimits {
    /// Spends one request of `credential`'s budget (the API's per-credential limit, which the
    /// console's session requests share); `Err(seconds)` to wait when it is spent.
    pub fn take_for_credential(&self, credential: &str) -> Result<(), u64> {
        self.per_credential
            .take(&credential.to_owned(), std::time::Instant::now())
    }

    pub fn new(per_ip: RateLimit, per_credential: RateLimit) -> Self {
        Self {
            per_ip: Limiter::new(per_ip),
            per_credential: Limiter::new(per_credential),
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new(RateLimit::OFF, RateLimit::OFF)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let l = Limiter::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take(&"k", t), Ok(()));
        }
        assert_eq!(l.take(&"k", t), Err(1), "one a second");
        assert_eq!(l.take(&"other", t), Ok(()), "buckets are per key");
        assert_eq!(l.take(&"k", t + Duration::from_millis(1_000)), Ok(()));
        assert!(l.take(&"k", t + Duration::from_millis(1_000)).is_err());
        let off = Limiter::new(RateLimit::OFF);
        for _ in 0..1_000 {
            assert_eq!(off.take(&"k", t), Ok(()));
        }
    }
}
