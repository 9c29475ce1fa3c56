//! The account's security policy, the one stored value every API shows part of.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenantry_security::{
    ApiKeyLimit, Cidr, IdleTimeout, InactivityLock, PasswordExpiry, RetentionDays, SessionLifetime,
    SessionLimit, WriteRange,
};

use crate::fields::Fields;

/// The account's security policy in domain units (minutes, days). The account settings, user
/// and organization, settings catalog and tenant settings APIs each show parts of it under their
/// own names and units (API-MAP.md); this is the one stored value.
///
/// Every number is a quantity newtype of `tenantry_security` holding its domain range (the union
/// of the APIs' write ranges), so a policy outside it cannot be built, and a stored document
/// outside it is refused as corrupt ([`SecurityPolicy::from_stored`]) instead of loaded. Each
/// API's narrower write range is checked by that API's reader, on the fields a write changes.
///
/// The IP allowlist entries are not here: they have identity of their own (id, label, creator)
/// and live in their own table; only the enforcement flag is part of the policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityPolicy {
    /// Members must enrol MFA (the account settings API `two_factor.enabled`, the settings
    /// catalog API `requireMFA`, the tenant settings API `mfaRequired`).
    pub mfa_required: bool,
    /// The second factor members use (the account settings API `two_factor.method`).
    pub mfa_method: MfaMethod,
    /// Requests from outside the allowlist are refused.
    pub ip_allowlist_enforced: bool,
    /// The most live API keys one member may hold (1-50), checked when a key is created.
    pub max_api_keys: ApiKeyLimit,
    /// Absolute session lifetime from sign-in, 60-10080 minutes (the account settings API
    /// `session.timeout` in hours, the user and organization API `absolute_timeout_minutes`).
    pub absolute_session_minutes: SessionLifetime,
    /// Idle timeout, 1-1440 minutes; `None` disables it.
    pub idle_timeout_minutes: Option<IdleTimeout>,
    /// Whether activity pushes the idle timeout back.
    pub extend_on_activity: bool,
    /// The most live sessions one member may hold (1-100); the oldest is signed out to make
    /// room.
    pub concurrent_sessions: SessionLimit,
    /// Whether sensitive operations ask for the password again.
    pub reauth_for_sensitive: bool,
    /// Days after which a password expires (1-3650); `None` = passwords never expire.
    pub password_expiry_days: Option<PasswordExpiry>,
    /// Members inactive this many days (60-365) are suspended; `None` = never.
    pub inactivity_lock_days: Option<InactivityLock>,
    /// Days the audit log is kept (1-365, and at most the tier's cap); older entries are
    /// purged.
    pub audit_retention_days: RetentionDays,
    /// Whether API requests are written to the audit log.
    pub log_api_requests: bool,
    /// Whether reads of resources are written to the audit log.
    pub log_resource_access: bool,
    /// Origins a portal link's `returnUrl` may point to, besides the operator's
    /// (`TENANTRY_PORTAL_RETURN_ORIGINS`); canonical `scheme://host[:port]` (decision 0030).
    pub portal_return_origins: Vec<String>,
}

/// The second factor an account's members use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaMethod {
    /// Time-based one-time passwords from an authenticator app (RFC 6238).
    Totp,
    /// Codes by text message; refused on write while the server has no SMS transport.
    Sms,
}

/// A policy default: the numbers below lie in their domain ranges, checked by the tests.
const fn quantity<Q: Copy>(value: Result<Q, tenantry_security::RangeError>) -> Q {
    match value {
        Ok(q) => q,
        Err(_) => panic!("a default lies in its domain range"),
    }
}

/// The account settings API's write range of `session.concurrent_sessions` (1-10 of the
/// domain's 1-100).
pub const ACCOUNT_SETTINGS_SESSIONS: WriteRange<SessionLimit> = WriteRange::new(1, 10);

/// The account settings API's write range of `audit.retention_days` (30-365 of the domain's
/// 1-365).
pub const ACCOUNT_SETTINGS_RETENTION: WriteRange<RetentionDays> = WriteRange::new(30, 365);

/// The account settings API's `session.timeout` range in hours: the whole domain range of
/// [`SessionLifetime`] (1-168 hours).
pub const ACCOUNT_SETTINGS_TIMEOUT_HOURS: (u32, u32) =
    (SessionLifetime::MIN / 60, SessionLifetime::MAX / 60);

impl Default for SecurityPolicy {
    /// The defaults of API-MAP.md.
    fn default() -> Self {
        Self {
            mfa_required: false,
            mfa_method: MfaMethod::Totp,
            ip_allowlist_enforced: false,
            max_api_keys: quantity(ApiKeyLimit::new(20)),
            absolute_session_minutes: quantity(SessionLifetime::new(1440)),
            idle_timeout_minutes: Some(quantity(IdleTimeout::new(60))),
            extend_on_activity: true,
            concurrent_sessions: quantity(SessionLimit::new(5)),
            reauth_for_sensitive: true,
            password_expiry_days: Some(quantity(PasswordExpiry::new(90))),
            inactivity_lock_days: None,
            audit_retention_days: quantity(RetentionDays::new(90)),
            log_api_requests: true,
            log_resource_access: true,
            portal_return_origins: Vec::new(),
        }
    }
}

impl SecurityPolicy {
    /// The policy in a stored security document (`None`: never stored, the defaults apply).
    /// A document that does not read as a policy, a number outside its domain range included,
    /// is `PortError::Corrupt`: no API could have stored it.
    pub fn from_stored(doc: Option<Value>) -> Result<Self, tenantry_kernel::PortError> {
        doc.map(serde_json::from_value)
            .transpose()
            .map_err(|e| tenantry_kernel::PortError::Corrupt(format!("security settings: {e}")))
            .map(Option::unwrap_or_default)
    }
}

/// The account settings API `session.timeout` is hours, 1-168; the domain keeps whole minutes. Hours are shown
/// as minutes / 60 rounded to 6 decimals; a written hour value is the nearest whole minute, so
/// every shown value converts back to the stored minute (docs/api/mapping.md).
fn hours(minutes: SessionLifetime) -> Value {
    let minutes = minutes.get();
    if minutes % 60 == 0 {
        json!(minutes / 60)
    } else {
        json!((f64::from(minutes) / 60.0 * 1e6).round() / 1e6)
    }
}

/// The allowlist in the one order every API shows it: the order the entries were created in,
/// so entries kept by a list write keep their place and new ones follow in the order written.
/// A write's reply and the next read therefore agree.
pub fn in_stored_order(existing: &[Cidr], written: &[Cidr]) -> Vec<Cidr> {
    existing
        .iter()
        .filter(|c| written.contains(c))
        .chain(written.iter().filter(|c| !existing.contains(c)))
        .copied()
        .collect()
}

/// How many portal return origins an account may list.
pub const MAX_PORTAL_RETURN_ORIGINS: usize = 20;

/// The account settings API description of a valid allowlist entry, quoted in `INVALID_IP_WHITELIST`.
pub const VALID_IP_FORMAT: &str =
    "IPv4 or IPv6 address or CIDR block (e.g., 192.168.1.0/24, 2001:db8::/32)";

impl SecurityPolicy {
    /// The account settings API's `security` section. `backup_codes` (the caller's unused MFA codes) is read-only
    /// and only present in reads.
    pub fn render(&self, allowlist: &[Cidr], backup_codes: Option<u32>) -> Value {
        let mut two_factor = json!({
            "enabled": self.mfa_required,
            "method": match self.mfa_method { MfaMethod::Totp => "totp", MfaMethod::Sms => "sms" },
        });
        if let Some(n) = backup_codes {
            two_factor["backup_codes"] = json!(n);
        }
        json!({
            "two_factor": two_factor,
            "api_access": {
                "ip_whitelist": allowlist.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "require_ip_whitelist": self.ip_allowlist_enforced,
                "max_api_keys": self.max_api_keys,
                "portal_return_origins": self.portal_return_origins,
            },
            "session": {
                "timeout": hours(self.absolute_session_minutes),
                "require_reauth_for_sensitive": self.reauth_for_sensitive,
                "concurrent_sessions": self.concurrent_sessions,
            },
            "audit": {
                "log_api_requests": self.log_api_requests,
                "log_resource_access": self.log_resource_access,
                "retention_days": self.audit_retention_days,
            },
        })
    }

    /// Reads the account settings API's `security` document onto `self` (fields the account settings API does not show keep their
    /// values). Invalid allowlist entries are collected in `invalid_ips`, all of them.
    pub fn read(
        &self,
        doc: &Value,
        f: &mut Fields,
        invalid_ips: &mut Vec<String>,
    ) -> Option<(Self, Vec<Cidr>)> {
        let root = f.object(doc, "", &["two_factor", "api_access", "session", "audit"])?;
        let mut next = self.clone();
        if let Some(m) = f.child(root, "two_factor", "", &["enabled", "method"]) {
            next.mfa_required = f
                .bool(m, "enabled", "two_factor")
                .unwrap_or(next.mfa_required);
            if let Some(method) = f.parse(
                m,
                "method",
                "two_factor",
                |s| match s {
                    "totp" => Ok(MfaMethod::Totp),
                    // Accepted only with an SMS transport, and this server has none.
                    "sms" => Err(
                        "sms needs an SMS transport, and none is configured; use totp".to_owned(),
                    ),
                    _ => Err("must be totp (sms needs an SMS transport)".to_owned()),
                },
                Some(&["totp"]),
            ) {
                next.mfa_method = method;
            }
        }
        let mut allowlist = Vec::new();
        if let Some(m) = f.child(
            root,
            "api_access",
            "",
            &[
                "ip_whitelist",
                "require_ip_whitelist",
                "max_api_keys",
                "portal_return_origins",
            ],
        ) {
            let p = "api_access";
            match m.get("ip_whitelist") {
                Some(Value::Array(items)) if items.len() <= 1000 => {
                    for item in items {
                        match item.as_str().map(Cidr::parse) {
                            Some(Ok(c)) if !allowlist.contains(&c) => allowlist.push(c),
                            Some(Ok(_)) => {}
                            _ => invalid_ips.push(
                                item.as_str()
                                    .map_or_else(|| item.to_string(), str::to_owned),
                            ),
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(Value::Array(_)) => {
                    f.error("api_access.ip_whitelist", "must have at most 1000 entries")
                }
                Some(_) => f.error(
                    "api_access.ip_whitelist",
                    "must be an array of IP addresses or CIDR blocks",
                ),
            }
            next.ip_allowlist_enforced = f
                .bool(m, "require_ip_whitelist", p)
                .unwrap_or(next.ip_allowlist_enforced);
            next.max_api_keys = f
                .quantity(m, "max_api_keys", p, WriteRange::DOMAIN)
                .unwrap_or(next.max_api_keys);
            match m.get("portal_return_origins") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) if items.len() <= MAX_PORTAL_RETURN_ORIGINS => {
                    let mut origins = Vec::new();
                    for item in items {
                        match item
                            .as_str()
                            .ok_or_else(|| "must be a string".to_owned())
                            .and_then(tenantry_security::ReturnOrigins::parse_origin)
                        {
                            Ok(o) if !origins.contains(&o) => origins.push(o),
                            Ok(_) => {}
                            Err(e) => f.error("api_access.portal_return_origins", e),
                        }
                    }
                    next.portal_return_origins = origins;
                }
                Some(_) => f.error(
                    "api_access.portal_return_origins",
                    format!(
                        "must be an array of at most {MAX_PORTAL_RETURN_ORIGINS} origins \
                         (https://host[:port], or http on a loopback host)"
                    ),
                ),
            }
        }
        if let Some(m) = f.child(
            root,
            "session",
            "",
            &[
                "timeout",
                "require_reauth_for_sensitive",
                "concurrent_sessions",
            ],
        ) {
            let p = "session";
            let (min, max) = ACCOUNT_SETTINGS_TIMEOUT_HOURS;
            if let Some(h) = f.number(m, "timeout", p, f64::from(min), f64::from(max)) {
                // Whole minutes: 1.5 h is 90 min; finer fractions round to the nearest minute.
                // An unchanged value is the stored one, so it converts back into the domain.
                match SessionLifetime::new((h * 60.0).round() as u32) {
                    Ok(minutes) => next.absolute_session_minutes = minutes,
                    Err(_) => f.range(
                        "session.timeout".into(),
                        f64::from(min),
                        f64::from(max),
                        "a number",
                    ),
                }
            }
            next.reauth_for_sensitive = f
                .bool(m, "require_reauth_for_sensitive", p)
                .unwrap_or(next.reauth_for_sensitive);
            next.concurrent_sessions = f
                .quantity(m, "concurrent_sessions", p, ACCOUNT_SETTINGS_SESSIONS)
                .unwrap_or(next.concurrent_sessions);
        }
        if let Some(m) = f.child(
            root,
            "audit",
            "",
            &["log_api_requests", "log_resource_access", "retention_days"],
        ) {
            let p = "audit";
            next.log_api_requests = f
                .bool(m, "log_api_requests", p)
                .unwrap_or(next.log_api_requests);
            next.log_resource_access = f
                .bool(m, "log_resource_access", p)
                .unwrap_or(next.log_resource_access);
            next.audit_retention_days = f
                .quantity(m, "retention_days", p, ACCOUNT_SETTINGS_RETENTION)
                .unwrap_or(next.audit_retention_days);
        }
        Some((next, allowlist))
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    use tenantry_kernel::PortError;
    use tenantry_security::PolicyQuantity;

    /// The fixed seed of the law below; a failure prints it.
    const SEED: u64 = 0x0045;

    /// Each numeric field of the stored document with its domain range.
    fn quantities() -> Vec<(&'static str, (u32, u32))> {
        vec![
            ("max_api_keys", ApiKeyLimit::DOMAIN),
            ("absolute_session_minutes", SessionLifetime::DOMAIN),
            ("idle_timeout_minutes", IdleTimeout::DOMAIN),
            ("concurrent_sessions", SessionLimit::DOMAIN),
            ("password_expiry_days", PasswordExpiry::DOMAIN),
            ("inactivity_lock_days", InactivityLock::DOMAIN),
            ("audit_retention_days", RetentionDays::DOMAIN),
        ]
    }

    /// A stored document holding any number in any numeric field loads exactly when the
    /// number lies in the field's domain range (and then holds it); outside, it is
    /// `PortError::Corrupt`: no API could have stored it, so it is not silently used.
    #[test]
    fn a_stored_number_outside_its_domain_range_is_corrupt() {
        let fields = quantities();
        let mut runner = TestRunner::new(Config {
            cases: 1024,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(SEED),
            ..Config::default()
        });
        let strategy = (
            0..fields.len(),
            prop_oneof![any::<u32>(), 0u32..=20_000, Just(0u32)],
        );
        let result = runner.run(&strategy, |(i, n)| {
            let (name, (min, max)) = fields[i];
            let mut doc = serde_json::to_value(SecurityPolicy::default()).expect("serializes");
            doc[name] = json!(n);
            let loaded = SecurityPolicy::from_stored(Some(doc));
            if (min..=max).contains(&n) {
                let policy = loaded.expect("in range loads");
                let back = serde_json::to_value(&policy).expect("serializes");
                prop_assert_eq!(&back[name], &json!(n), "{}", name);
            } else {
                prop_assert!(
                    matches!(&loaded, Err(PortError::Corrupt(m)) if m.contains("security settings")),
                    "{} = {} gave {:?}",
                    name,
                    n,
                    loaded
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}; proptest seed {SEED:#x}");
        }
    }

    #[test]
    fn never_is_null_and_a_missing_field_takes_its_default() {
        let mut doc = serde_json::to_value(SecurityPolicy::default()).expect("serializes");
        doc["password_expiry_days"] = Value::Null;
        doc.as_object_mut()
            .expect("object")
            .remove("concurrent_sessions");
        let policy = SecurityPolicy::from_stored(Some(doc)).expect("loads");
        assert_eq!(policy.password_expiry_days, None);
        assert_eq!(
            policy.concurrent_sessions,
            SecurityPolicy::default().concurrent_sessions
        );
        assert_eq!(
            SecurityPolicy::from_stored(None),
            Ok(SecurityPolicy::default())
        );
    }

    #[test]
    fn the_account_settings_write_ranges_lie_inside_the_domain() {
        assert_eq!(
            (
                ACCOUNT_SETTINGS_SESSIONS.min(),
                ACCOUNT_SETTINGS_SESSIONS.max()
            ),
            (1, 10)
        );
        assert_eq!(
            (
                ACCOUNT_SETTINGS_RETENTION.min(),
                ACCOUNT_SETTINGS_RETENTION.max()
            ),
            (30, 365)
        );
        assert_eq!(ACCOUNT_SETTINGS_TIMEOUT_HOURS, (1, 168));
    }

    /// Every tier's cap on the audit retention lies inside the retention's domain range, so
    /// the tenant settings API's write range (the domain up to the cap) is never empty or wider.
    #[test]
    fn every_tier_caps_retention_inside_its_domain() {
        use tenantry_billing::Tier;
        for tier in [Tier::Free, Tier::Pro, Tier::Enterprise] {
            let cap = tier.limits().max_audit_retention_days;
            assert!(
                (RetentionDays::MIN..=RetentionDays::MAX).contains(&cap),
                "{}",
                tier.as_str()
            );
        }
    }
}
