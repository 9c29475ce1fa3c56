//! Failed sign-ins are limited per (email) and per client address, in a sliding window kept in
//! memory on each node: an attacker spreading guesses over N nodes gets at most N× the limit,
//! which the per-address limit and Argon2's cost keep small.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed per email address in one window.
pub const MAX_FAILURES_PER_EMAIL: u32 = 5;
/// Failures allowed per client address in one window.
pub const MAX_FAILURES_PER_IP: u32 = 20;
pub const WINDOW_MINUTES: i64 = 15;
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub(crate) struct LoginThrottle {
    by_email: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
    by_ip: Mutex<HashMap<IpAddr, (u32, DateTime<Utc>)>>,
}

fn blocked<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, (u32, DateTime<Utc>)>>,
    key: &K,
    max: u32,
    now: DateTime<Utc>,
) -> Option<i64> {
    let map = map.lock().ok()?;
    let (count, since) = map.get(key)?;
    let ends = *since + Duration::minutes(WINDOW_MINUTES);
    (*count >= max && now < ends).then(|| (ends - now).num_seconds().max(1))
}

fn record<K: std::hash::Hash + Eq + Clone>(
    map: &Mutex<HashMap<K, (u32, DateTime<Utc>)>>,
    key: K,
    now: DateTime<Utc>,
) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| now - *since < Duration::minutes(WINDOW_MINUTES));
        }
        let entry = map.entry(key).or_insert((0, now));
        if now - entry.1 >= Duration::minutes(WINDOW_MINUTES) {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

impl LoginThrottle {
    /// Seconds until another attempt is allowed, if the email or the address is blocked.
    pub(crate) fn retry_after(
        &self,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        let by_email = blocked(
            &self.by_email,
            &email.to_ascii_lowercase(),
            MAX_FAILURES_PER_EMAIL,
            now,
        );
        let by_ip = ip.and_then(|ip| blocked(&self.by_ip, &ip, MAX_FAILURES_PER_IP, now));
        by_email.max(by_ip)
    }

    pub(crate) fn failed(&self, email: &str, ip: Option<IpAddr>, now: DateTime<Utc>) {
        record(&self.by_email, email.to_ascii_lowercase(), now);
        if let Some(ip) = ip {
            record(&self.by_ip, ip, now);
        }
    }

    pub(crate) fn succeeded(&self, email: &str) {
        if let Ok(mut map) = self.by_email.lock() {
            map.remove(&email.to_ascii_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let t = LoginThrottle::default();
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            assert_eq!(t.retry_after("a@b.co", Some(ip), now), None);
            t.failed("a@b.co", Some(ip), now);
        }
        assert!(t
            .retry_after("A@B.CO", None, now)
            .is_some_and(|s| s <= WINDOW_MINUTES * 60));
        assert_eq!(t.retry_after("other@b.co", None, now), None);
        assert_eq!(
            t.retry_after("a@b.co", None, now + Duration::minutes(WINDOW_MINUTES)),
            None
        );
        t.succeeded("a@b.co");
        assert_eq!(t.retry_after("a@b.co", None, now), None);
    }
}
