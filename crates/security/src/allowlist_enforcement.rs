//! Applying the IP allowlist to requests: each account's compiled policy is cached under the
//! account's write epoch ([`AllowlistSource::policy_epoch`]), so a write of its security section
//! or allowlist on this node shows at once, and one made elsewhere once the change feed applies
//! it; an entry lives at most [`Epoch::lifetime`] of [`POLICY_TTL_SECONDS`], the bound when the
//! feed is not followed (decisions 0003, 0047, 0050). The writer of the security settings also
//! [`AllowlistCache::invalidate`]s the account, which costs nothing and keeps the rule local.
//!
//! The policy itself (whether the account enforces its list, and the list) is the settings
//! context's document; it comes in through [`AllowlistSource`], bridged by the binary, so this
//! crate never depends on settings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{AccountId, Actor, AuditId, Clock, Epoch, PortError, RandomSource};

use crate::ports::{AllowlistSource, DenialAudit, IpDenial};
use crate::{AllowlistPolicy, SecurityError};

/// How long another node's allowlist change may take to apply here when the change feed is not
/// followed (the documented cross-instance bound); while it is, entries live until a change
/// is applied, at most `tenantry_kernel::FEED_MAX_LIFETIME`.
pub const POLICY_TTL_SECONDS: i64 = 2;
/// One audit entry per (account, address) per this many seconds: a refused client hammering
/// the API must not turn into an audit-log write per request.
const DENIAL_AUDIT_WINDOW_SECONDS: i64 = 60;
/// Bounds on the caches' memory: past these, the oldest half is dropped.
const MAX_CACHED_POLICIES: usize = 100_000;
const MAX_TRACKED_DENIALS: usize = 10_000;

/// What the allowlist says of an address ([`AllowlistEnforcement::check_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The account does not enforce its allowlist, or the address is inside it.
    Allowed,
    /// The account enforces its allowlist and the address is outside it (audited).
    Refused,
}

/// A compiled policy, when it was read and the epoch it was read under.
type CachedPolicy = (DateTime<Utc>, u64, Arc<AllowlistPolicy>);

/// This node's compiled allowlist policies, the refusals recently audited and when each
/// account's enforced list last judged a request. Shared by the enforcement (which fills it)
/// and the writer of the security settings (which must [`invalidate`](Self::invalidate) an
/// account's entry whenever it writes that account's security section or allowlist: a policy
/// read before the write would otherwise keep applying here for up to
/// [`POLICY_TTL_SECONDS`]).
#[derive(Default)]
pub struct AllowlistCache {
    policies: Mutex<HashMap<AccountId, CachedPolicy>>,
    denials: Mutex<HashMap<(AccountId, IpAddr), DateTime<Utc>>>,
    /// When each account's policy was last applied to a request on this node.
    evaluated: Mutex<HashMap<AccountId, DateTime<Utc>>>,
}

fn trim<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    max: usize,
    age: impl Fn(&V) -> DateTime<Utc>,
) {
    if map.len() < max {
        return;
    }
    let mut ages: Vec<DateTime<Utc>> = map.values().map(&age).collect();
    ages.sort_unstable();
    let cutoff = ages[ages.len() / 2];
    map.retain(|_, v| age(v) > cutoff);
}

impl AllowlistCache {
    /// Forgets `account`'s compiled policy on this node: the next request re-reads it. The
    /// writer of the account's security section or allowlist calls this after every write.
    pub fn invalidate(&self, account: AccountId) {
        if let Ok(mut map) = self.policies.lock() {
            map.remove(&account);
        }
    }

    fn get(
        &self,
        account: AccountId,
        now: DateTime<Utc>,
        epoch: Epoch,
    ) -> Option<Arc<AllowlistPolicy>> {
        let lifetime = epoch.lifetime(std::time::Duration::from_secs(
            POLICY_TTL_SECONDS.unsigned_abs(),
        ));
        let lifetime = Duration::from_std(lifetime).ok()?;
        let map = self.policies.lock().ok()?;
        map.get(&account)
            .filter(|(loaded, at, _)| *at == epoch.value() && now - *loaded < lifetime)
            .map(|(_, _, p)| p.clone())
    }

    fn put(
        &self,
        account: AccountId,
        now: DateTime<Utc>,
        epoch: Epoch,
        policy: Arc<AllowlistPolicy>,
    ) {
        if let Ok(mut map) = self.policies.lock() {
            trim(&mut map, MAX_CACHED_POLICIES, |(t, _, _)| *t);
            map.insert(account, (now, epoch.value(), policy));
        }
    }

    /// Whether this denial should be audited (first in its window).
    fn should_audit(&self, account: AccountId, ip: IpAddr, now: DateTime<Utc>) -> bool {
        let Ok(mut map) = self.denials.lock() else {
            return true;
        };
        match map.get(&(account, ip)) {
            Some(last) if now - *last < Duration::seconds(DENIAL_AUDIT_WINDOW_SECONDS) => false,
            _ => {
                trim(&mut map, MAX_TRACKED_DENIALS, |t| *t);
                map.insert((account, ip), now);
                true
            }
        }
    }

    fn note_evaluated(&self, account: AccountId, policy: &AllowlistPolicy, now: DateTime<Utc>) {
        if policy.enforced {
            if let Ok(mut map) = self.evaluated.lock() {
                trim(&mut map, MAX_CACHED_POLICIES, |t| *t);
                map.insert(account, now);
            }
        }
    }
}

/// What [`AllowlistEnforcement`] is built on.
pub struct AllowlistDeps {
    /// Each account's policy, read when the cache has none fresh.
    pub source: Arc<dyn AllowlistSource>,
    /// Where refusals are audited.
    pub audit: Arc<dyn DenialAudit>,
    /// The cache, shared with the writer of the security settings (which invalidates it).
    pub cache: Arc<AllowlistCache>,
    /// Where "now" comes from (cache freshness, audit times).
    pub clock: Arc<dyn Clock>,
    /// Audit entry ids.
    pub random: Arc<dyn RandomSource>,
}

/// The IP allowlist applied to requests, sign-ins and invitation acceptances: an account that
/// enforces its allowlist admits only addresses inside it, whatever the credential (an
/// owner's API key, a session, a portal link's session). A refusal is audited as
/// `security.ip_denied`, at most once a minute per (account, address).
pub struct AllowlistEnforcement {
    source: Arc<dyn AllowlistSource>,
    audit: Arc<dyn DenialAudit>,
    cache: Arc<AllowlistCache>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl AllowlistEnforcement {
    /// The enforcement on `deps`.
    pub fn new(deps: AllowlistDeps) -> Self {
        let AllowlistDeps {
            source,
            audit,
            cache,
            clock,
            random,
        } = deps;
        Self {
            source,
            audit,
            cache,
            clock,
            random,
        }
    }

    /// [`Self::check_ip`] for an admitted caller whose account's policy is in memory; `None`
    /// when the policy must be read, or the caller is refused (a refusal is audited, which
    /// writes): the caller then runs `check_ip` where blocking is allowed.
    pub fn check_ip_in_memory(&self, actor: &Actor) -> Option<()> {
        let now = self.clock.now();
        let epoch = self.source.policy_epoch(actor.account_id);
        let policy = self.cache.get(actor.account_id, now, epoch)?;
        if !policy.allows(actor.ip) {
            return None;
        }
        self.cache.note_evaluated(actor.account_id, &policy, now);
        Some(())
    }

    /// The account's allowlist policy, from the cache while fresh (read under the account's
    /// current epoch, within its lifetime, and not invalidated since). Errors: `Port` when it
    /// cannot be read.
    pub fn policy(&self, account: AccountId) -> Result<Arc<AllowlistPolicy>, SecurityError> {
        let now = self.clock.now();
        // Read before the policy, so a write landing in between leaves the entry stale.
        let epoch = self.source.policy_epoch(account);
        if let Some(policy) = self.cache.get(account, now, epoch) {
            return Ok(policy);
        }
        let policy = Arc::new(self.source.allowlist_policy(account)?);
        self.cache.put(account, now, epoch, policy.clone());
        Ok(policy)
    }

    /// Applies the allowlist to an authenticated request: [`SecurityError::IpNotAllowed`] when
    /// the account enforces its allowlist and the caller's address (or an unknown one) is
    /// outside it, audited by the caller's audit name with its credential (throttled per
    /// address). `Port` when the policy cannot be read: the request is not admitted then.
    pub fn check_ip(&self, actor: &Actor) -> Result<(), SecurityError> {
        let policy = self.policy(actor.account_id)?;
        self.cache
            .note_evaluated(actor.account_id, &policy, self.clock.now());
        if policy.allows(actor.ip) {
            return Ok(());
        }
        let address = actor
            .ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        self.audit_refusal(
            actor.account_id,
            actor.audit_name(),
            actor.ip,
            &address,
            &actor.credential.to_string(),
        );
        Err(SecurityError::IpNotAllowed { address })
    }

    /// Judges `ip` against `account`'s allowlist for a program that gates its own requests
    /// (before or without a Tenantry credential): [`Decision::Refused`] when the account
    /// enforces its allowlist and the address is outside it, audited as `security.ip_denied`
    /// by `anonymous` (at most once a minute per address, as for API requests). Errors only
    /// when the policy cannot be read (`Port`).
    pub fn check_address(&self, account: AccountId, ip: IpAddr) -> Result<Decision, SecurityError> {
        let policy = self.policy(account)?;
        if policy.allows(Some(ip)) {
            return Ok(Decision::Allowed);
        }
        self.audit_refusal(
            account,
            "anonymous".into(),
            Some(ip),
            &ip.to_string(),
            "none",
        );
        Ok(Decision::Refused)
    }

    /// Whether the account's enforced allowlist admits `ip`: the check sign-in and invitation
    /// acceptance make before any credential exists (not audited: their own refusals are).
    pub fn admits(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError> {
        match self.policy(account) {
            Ok(policy) => Ok(policy.allows(ip)),
            Err(SecurityError::Port(p)) => Err(p),
            Err(other) => Err(PortError::Corrupt(other.to_string())),
        }
    }

    /// When the account's enforced allowlist last judged a request on this node (`None`:
    /// never since start, or the list is not enforced).
    pub fn last_evaluated(&self, account: AccountId) -> Option<DateTime<Utc>> {
        self.cache.evaluated.lock().ok()?.get(&account).copied()
    }

    /// Audits a refused address (throttled per address), never failing the refusal.
    fn audit_refusal(
        &self,
        account: AccountId,
        actor: String,
        ip: Option<IpAddr>,
        address: &str,
        credential: &str,
    ) {
        let now = self.clock.now();
        if !ip.is_none_or(|ip| self.cache.should_audit(account, ip, now)) {
            return;
        }
        let denial = IpDenial {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            account,
            actor,
            ip,
            address: address.to_owned(),
            credential: credential.to_owned(),
            at: now,
        };
        // A failure to audit must not turn a refusal into an acceptance, nor into a 500.
        if let Err(e) = self.audit.record_ip_denial(&denial) {
            tracing::warn!(error = %e, "could not audit a refused request");
        }
    }
}
