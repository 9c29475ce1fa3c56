//! Account logos, fetched by the server through the outbound guard and kept in memory, so the
//! console serves them from its own origin: a page never makes the visitor's browser ask
//! another site (which would tell that site who looks at the console, and when), and the CSP
//! stays `img-src 'self'`.
//!
//! The cache is bounded ([`MAX_ENTRIES`] logos of at most `LOGO_MAX_BYTES` each, 2 MiB at
//! worst) and lives in the process (decision 0037): a logo is a few KiB fetched again after a
//! restart or an hour, which costs less than a table, a migration and a purge for both
//! backends. A failure is remembered for a minute so a broken logo URL does not make every
//! page wait for its host. Two pages that miss at once may both fetch; the second result
//! replaces the first, which is the same logo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use tenantry_kernel::AccountId;
use tenantry_notifications::HttpGet;
use tenantry_settings::{HttpsUrl, LogoImage, LOGO_MAX_BYTES};

/// How many logos the cache keeps; the least recently fetched goes first.
pub(crate) const MAX_ENTRIES: usize = 64;
/// How long a fetched logo is served before it is fetched again (a logo changed at the same
/// URL shows within this).
const FRESH_FOR: Duration = Duration::hours(1);
/// How long a failed fetch is remembered.
const FAILED_FOR: Duration = Duration::minutes(1);

/// A logo ready to serve: the image and its ETag (a hash of its bytes).
#[derive(Debug, Clone)]
pub(crate) struct Logo {
    pub image: Arc<LogoImage>,
    /// 16 hex digits of the SHA-256 of the bytes: the ETag, and the `?v=` of the page's link.
    pub version: String,
}

#[derive(Debug, Clone)]
enum Entry {
    Ready { logo: Logo, fetched: DateTime<Utc> },
    Failed { fetched: DateTime<Utc> },
}

impl Entry {
    fn fetched(&self) -> DateTime<Utc> {
        match self {
            Entry::Ready { fetched, .. } | Entry::Failed { fetched } => *fetched,
        }
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        let ttl = match self {
            Entry::Ready { .. } => FRESH_FOR,
            Entry::Failed { .. } => FAILED_FOR,
        };
        now - self.fetched() < ttl && now >= self.fetched()
    }
}

/// The logos of accounts, by account and logo URL (a new URL is a new entry, so a changed
/// branding shows at once).
pub(crate) struct LogoCache {
    source: Option<Arc<dyn HttpGet>>,
    entries: Mutex<HashMap<(AccountId, String), Entry>>,
}

impl LogoCache {
    /// `source` is the guarded outbound client; without one no logo is fetched and pages
    /// show the account's name.
    pub(crate) fn new(source: Option<Arc<dyn HttpGet>>) -> Self {
        Self {
            source,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The account's logo at `url`: from the cache while fresh, otherwise fetched now
    /// (blocking: call it off the async workers). `None` when it cannot be had; the reason
    /// is logged, never shown.
    pub(crate) fn get(
        &self,
        account: AccountId,
        url: &HttpsUrl,
        now: DateTime<Utc>,
    ) -> Option<Logo> {
        let key = (account, url.as_str().to_owned());
        if let Some(entry) = self.lock().get(&key).filter(|e| e.fresh(now)) {
            return match entry {
                Entry::Ready { logo, .. } => Some(logo.clone()),
                Entry::Failed { .. } => None,
            };
        }
        let fetched = self.fetch(url);
        let entry = match &fetched {
            Ok(logo) => Entry::Ready {
                logo: logo.clone(),
                fetched: now,
            },
            Err(reason) => {
                tracing::warn!(%account, url = url.as_str(), %reason, "the account's logo could not be fetched; pages show its name");
                Entry::Failed { fetched: now }
            }
        };
        self.insert(key, entry);
        fetched.ok()
    }

    fn fetch(&self, url: &HttpsUrl) -> Result<Logo, String> {
        let source = self
            .source
            .as_ref()
            .ok_or("no outbound client is configured")?;
        let reply = source
            .get(url.as_str(), LOGO_MAX_BYTES)
            .map_err(|e| e.to_string())?;
        // A redirect is not followed (it would lead past the address check): it is a failure
        // like any other answer but 200.
        if reply.status != 200 {
            return Err(format!("the host answered {}", reply.status));
        }
        let image = LogoImage::parse(reply.content_type.as_deref(), reply.body)?;
        let digest = Sha256::digest(image.bytes());
        let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Logo {
            image: Arc::new(image),
            version,
        })
    }

    fn insert(&self, key: (AccountId, String), entry: Entry) {
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= MAX_ENTRIES {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.fetched())
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(AccountId, String), Entry>> {
        // A panic while holding the lock leaves a map that is still a valid cache.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tenantry_notifications::{DeliveryError, FetchedBody};

    /// A host that answers every GET with `reply` and counts the requests.
    struct Host {
        reply: FetchedBody,
        calls: AtomicUsize,
    }

    impl HttpGet for Host {
        fn get(&self, _url: &str, _max: usize) -> Result<FetchedBody, DeliveryError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(self.reply.clone())
        }
    }

    fn host(status: u16, content_type: &str, body: &[u8]) -> Arc<Host> {
        Arc::new(Host {
            reply: FetchedBody {
                status,
                content_type: Some(content_type.into()),
                body: body.to_vec(),
            },
            calls: AtomicUsize::new(0),
        })
    }

    fn account(n: u128) -> AccountId {
        AccountId::parse_ulid(&format!("{n:026}")).expect("digits are a ULID")
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn a_logo_is_fetched_once_while_fresh_and_again_after() {
        let h = host(200, "image/png", PNG);
        let cache = LogoCache::new(Some(h.clone()));
        let url = HttpsUrl::parse("https://logo.example/a.png").expect("url");
        let t0 = Utc::now();
        let first = cache.get(account(1), &url, t0).expect("logo");
        assert_eq!(first.image.bytes(), PNG);
        assert_eq!(first.version.len(), 16);
        assert!(cache
            .get(account(1), &url, t0 + Duration::minutes(59))
            .is_some());
        assert_eq!(h.calls.load(Ordering::SeqCst), 1);
        assert!(cache
            .get(account(1), &url, t0 + Duration::minutes(61))
            .is_some());
        assert_eq!(h.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn failures_are_remembered_for_a_minute() {
        for h in [
            host(302, "image/png", PNG),
            host(200, "image/svg+xml", b"<svg/>"),
            host(200, "image/png", b"<html>"),
        ] {
            let cache = LogoCache::new(Some(h.clone()));
            let url = HttpsUrl::parse("https://logo.example/a.png").expect("url");
            let t0 = Utc::now();
            assert!(cache.get(account(1), &url, t0).is_none());
            assert!(cache
                .get(account(1), &url, t0 + Duration::seconds(30))
                .is_none());
            assert_eq!(h.calls.load(Ordering::SeqCst), 1);
            assert!(cache
                .get(account(1), &url, t0 + Duration::seconds(61))
                .is_none());
            assert_eq!(h.calls.load(Ordering::SeqCst), 2);
        }
    }

    #[test]
    fn the_cache_keeps_at_most_its_bound() {
        let h = host(200, "image/png", PNG);
        let cache = LogoCache::new(Some(h.clone()));
        let url = HttpsUrl::parse("https://logo.example/a.png").expect("url");
        let t0 = Utc::now();
        for n in 0..(MAX_ENTRIES as u128 + 10) {
            let at = t0 + Duration::seconds(i64::try_from(n).expect("small"));
            assert!(cache.get(account(n), &url, at).is_some());
        }
        assert_eq!(cache.lock().len(), MAX_ENTRIES);
        // The first accounts' logos went first.
        assert!(!cache
            .lock()
            .contains_key(&(account(0), url.as_str().to_owned())));
    }
}
