//! Applying the IP allowlist to requests: each account's compiled policy is cached, dropped on
//! this node the moment its security section changes, and re-read after `POLICY_TTL` so a change
//! made on another node applies here within that bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{AccountId, Actor, AuditId};
use tenantry_security::{AllowlistPolicy, Cidr};

use crate::ports::{AuditRecord, Writes};
use crate::{SecurityPolicy, SettingsError, SettingsService};

/// How long another node's allowlist change may take to apply here.
pub const POLICY_TTL_SECONDS: i64 = 2;
/// One audit entry per (account, address) per this many seconds: a refused client hammering
/// the API must not turn into an audit-log write per request.
const DENIAL_AUDIT_WINDOW_SECONDS: i64 = 60;
/// Bounds on the caches' memory: past these, the oldest half is dropped.
const MAX_CACHED_POLICIES: usize = 100_000;
const MAX_TRACKED_DENIALS: usize = 10_000;

/// What the allowlist says of an address ([`SettingsService::check_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The account does not enforce its allowlist, or the address is inside it.
    Allowed,
    /// The account enforces its allowlist and the address is outside it (audited).
    Refused,
}

/// A compiled policy and when it was read.
type CachedPolicy = (DateTime<Utc>, Arc<AllowlistPolicy>);

#[derive(Default)]
pub(crate) struct PolicyCache {
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

impl PolicyCache {
    pub(crate) fn invalidate(&self, account: AccountId) {
        if let Ok(mut map) = self.policies.lock() {
            map.remove(&account);
        }
    }

    fn get(&self, account: AccountId, now: DateTime<Utc>) -> Option<Arc<AllowlistPolicy>> {
        let map = self.policies.lock().ok()?;
        map.get(&account)
            .filter(|(loaded, _)| now - *loaded < Duration::seconds(POLICY_TTL_SECONDS))
            .map(|(_, p)| p.clone())
    }

    fn put(&self, account: AccountId, now: DateTime<Utc>, policy: Arc<AllowlistPolicy>) {
        if let Ok(mut map) = self.policies.lock() {
            trim(&mut map, MAX_CACHED_POLICIES, |(t, _)| *t);
            map.insert(account, (now, policy));
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
}

impl SettingsService {
    /// [`Self::check_ip`] for an admitted caller whose account's policy is in memory; `None`
    /// when the policy must be read, or the caller is refused (a refusal is audited, which
    /// writes): the caller then runs `check_ip` where blocking is allowed.
    pub fn check_ip_in_memory(&self, actor: &Actor) -> Option<()> {
        let now = self.clock().now();
        let policy = self.policies().get(actor.account_id, now)?;
        if !policy.allows(actor.ip) {
            return None;
        }
        self.note_evaluated(actor, &policy, now);
        Some(())
    }

    fn note_evaluated(&self, actor: &Actor, policy: &AllowlistPolicy, now: DateTime<Utc>) {
        if policy.enforced {
            if let Ok(mut map) = self.policies().evaluated.lock() {
                trim(&mut map, MAX_CACHED_POLICIES, |t| *t);
                map.insert(actor.account_id, now);
            }
        }
    }

    /// The account's allowlist policy, from the cache when fresh.
    pub fn allowlist_policy(
        &self,
        account: AccountId,
    ) -> Result<Arc<AllowlistPolicy>, SettingsError> {
        let now = self.clock().now();
        if let Some(policy) = self.policies().get(account, now) {
            return Ok(policy);
        }
        let (doc, list) = self.store().allowlist_source(account)?;
        let enforced = match doc {
            Some(doc) => {
                serde_json::from_value::<SecurityPolicy>(doc)
                    .map_err(|e| {
                        SettingsError::Port(tenantry_kernel::PortError::Corrupt(format!(
                            "security settings: {e}"
                        )))
                    })?
                    .ip_allowlist_enforced
            }
            None => false,
        };
        let cidrs = list
            .iter()
            .map(|c| {
                Cidr::parse(c).map_err(|e| {
                    SettingsError::Port(tenantry_kernel::PortError::Corrupt(format!(
                        "allowlist entry {c}: {e}"
                    )))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let policy = Arc::new(AllowlistPolicy::new(enforced, &cidrs));
        self.policies().put(account, now, policy.clone());
        Ok(policy)
    }

    /// Applies the allowlist to an authenticated request: `IpNotAllowed` when the account
    /// enforces its allowlist and the caller's address is outside it (audited, throttled).
    pub fn check_ip(&self, actor: &Actor) -> Result<(), SettingsError> {
        let policy = self.allowlist_policy(actor.account_id)?;
        self.note_evaluated(actor, &policy, self.clock().now());
        if policy.allows(actor.ip) {
            return Ok(());
        }
        let address = actor
            .ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let ctx = self.write_context(actor);
        self.audit_refusal(ctx, actor.ip, &address, &actor.credential.to_string());
        Err(SettingsError::IpNotAllowed { address })
    }

    /// Judges `ip` against `account`'s allowlist for a program that gates its own requests
    /// (before or without a Tenantry credential): [`Decision::Refused`] when the account
    /// enforces its allowlist and the address is outside it, audited as `security.ip_denied`
    /// by `anonymous` (at most once a minute per address, as for API requests). Errors only
    /// when the policy cannot be read (`Port`).
    pub fn check_address(
        &self,
        account: tenantry_kernel::AccountId,
        ip: std::net::IpAddr,
    ) -> Result<Decision, SettingsError> {
        let policy = self.allowlist_policy(account)?;
        if policy.allows(Some(ip)) {
            return Ok(Decision::Allowed);
        }
        let ctx = crate::ports::WriteContext {
            account,
            user: None,
            actor: "anonymous".into(),
            ip: Some(ip.to_string()),
            at: self.clock().now(),
            ids: self.ids(),
        };
        self.audit_refusal(ctx, Some(ip), &ip.to_string(), "none");
        Ok(Decision::Refused)
    }

    /// Audits a refused address (throttled per address), never failing the refusal.
    fn audit_refusal(
        &self,
        ctx: crate::ports::WriteContext,
        ip: Option<std::net::IpAddr>,
        address: &str,
        credential: &str,
    ) {
        let now = self.clock().now();
        let audit = ip.is_none_or(|ip| self.policies().should_audit(ctx.account, ip, now));
        if audit {
            let record = AuditRecord {
                id: AuditId::generate(self.clock(), self.random()),
                action: "security.ip_denied".into(),
                target: address.to_owned(),
                diff: serde_json::json!({ "address": address, "credential": credential }),
            };
            // A failure to audit must not turn a refusal into an acceptance, nor into a 500.
            if let Err(e) = self.store().update(&ctx, &[], false, &mut |_| {
                Ok(Writes {
                    audit: vec![record.clone()],
                    ..Writes::default()
                })
            }) {
                tracing::warn!(error = %e, "could not audit a refused request");
            }
        }
    }

    /// When the account's enforced allowlist last judged a request on this node.
    pub fn allowlist_last_evaluated(&self, account: AccountId) -> Option<DateTime<Utc>> {
        self.policies()
            .evaluated
            .lock()
            .ok()?
            .get(&account)
            .copied()
    }

    /// Break-glass: turns allowlist enforcement off for `account` as the operator (audited),
    /// whatever the current list. Returns whether it was on.
    pub fn break_glass_disable_allowlist(&self, account: AccountId) -> Result<bool, SettingsError> {
        let ctx = crate::ports::WriteContext {
            account,
            user: None,
            actor: tenantry_kernel::OperatorCaller::CLI.actor(),
            ip: None,
            at: self.clock().now(),
            ids: self.ids(),
        };
        let mut was_on = false;
        self.store().update(&ctx, &["security"], false, &mut |snapshot| {
            let (_, current) = snapshot.sections.into_iter().next().ok_or(SettingsError::UnknownVersion(0))?;
            let mut policy: SecurityPolicy = match &current.document {
                Some(doc) => serde_json::from_value(doc.clone())
                    .map_err(|e| SettingsError::Port(tenantry_kernel::PortError::Corrupt(e.to_string())))?,
                None => SecurityPolicy::default(),
            };
            was_on = policy.ip_allowlist_enforced;
            policy.ip_allowlist_enforced = false;
            let document = serde_json::to_value(&policy)
                .map_err(|e| SettingsError::Port(tenantry_kernel::PortError::Corrupt(e.to_string())))?;
            let mut history = document.clone();
            history["ip_allowlist"] = serde_json::json!(current.allowlist);
            Ok(Writes {
                sections: vec![(
                    "security".into(),
                    crate::ports::SectionWrite {
                        document,
                        history_document: history,
                        allowlist: None,
                        audit: AuditRecord {
                            id: AuditId::generate(self.clock(), self.random()),
                            action: "security.allowlist_break_glass".into(),
                            target: "security".into(),
                            diff: serde_json::json!({ "section": "security", "changes": [{ "path": "ip_allowlist_enforced", "before": was_on, "after": false }] }),
                        },
                    },
                )],
                ..Writes::default()
            })
        })?;
        self.policies().invalidate(account);
        Ok(was_on)
    }
}

impl tenantry_security::KeyPolicy for SettingsService {
    fn max_api_keys(&self, account: AccountId) -> Result<u32, tenantry_kernel::PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        let policy = SecurityPolicy::from_stored(doc)?;
        Ok(policy.max_api_keys)
    }

    fn reauth_for_sensitive(&self, account: AccountId) -> Result<bool, tenantry_kernel::PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        let policy = SecurityPolicy::from_stored(doc)?;
        Ok(policy.reauth_for_sensitive)
    }

    /// Read from the store on every call, like the session policy: the answer decides whether
    /// a secret is handed out, and key creation is rare enough not to need a cache.
    fn mfa_required(&self, account: AccountId) -> Result<bool, tenantry_kernel::PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        Ok(SecurityPolicy::from_stored(doc)?.mfa_required)
    }
}

impl tenantry_security::SessionPolicySource for SettingsService {
    fn session_policy(
        &self,
        account: AccountId,
    ) -> Result<tenantry_security::SessionPolicy, tenantry_kernel::PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        let p = SecurityPolicy::from_stored(doc)?;
        Ok(tenantry_security::SessionPolicy {
            mfa_required: p.mfa_required,
            password_expiry_days: p.password_expiry_days,
            absolute_minutes: p.absolute_session_minutes,
            idle_minutes: p.idle_timeout_minutes,
            extend_on_activity: p.extend_on_activity,
            concurrent_sessions: p.concurrent_sessions,
        })
    }

    /// The same rule as the team's (one implementation: [`SettingsService::admits`]).
    fn ip_allowed(
        &self,
        account: AccountId,
        ip: Option<std::net::IpAddr>,
    ) -> Result<bool, tenantry_kernel::PortError> {
        self.admits(account, ip)
    }
}

impl SettingsService {
    /// Whether the account's enforced allowlist admits `ip`: the check sign-in and invitation
    /// acceptance make before any credential exists.
    pub fn admits(
        &self,
        account: AccountId,
        ip: Option<std::net::IpAddr>,
    ) -> Result<bool, tenantry_kernel::PortError> {
        Ok(self
            .allowlist_policy(account)
            .map_err(into_port)?
            .allows(ip))
    }
}

fn into_port(e: SettingsError) -> tenantry_kernel::PortError {
    match e {
        SettingsError::Port(p) => p,
        other => tenantry_kernel::PortError::Corrupt(other.to_string()),
    }
}

/// The account's own portal return origins (decision 0030), read from the store on every mint:
/// minting is rare, and a removed origin must stop working at once.
impl tenantry_security::AccountReturnOrigins for SettingsService {
    fn return_origins(
        &self,
        account: AccountId,
    ) -> Result<Vec<String>, tenantry_kernel::PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        Ok(SecurityPolicy::from_stored(doc)?.portal_return_origins)
    }
}
