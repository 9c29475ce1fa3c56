//! The account's security policy, the one stored value every API shows part of.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenantry_security::Cidr;

use crate::fields::Fields;

/// The account's security policy in domain units (minutes, days). the account settings, user and organization, settings catalog and tenant settings API each
/// show parts of it under their own names and units (API-MAP.md); this is the one stored value.
///
/// The IP allowlist entries are not here: they have identity of their own (id, label, creator)
/// and live in their own table; only the enforcement flag is part of the policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityPolicy {
    /// Members must enrol MFA (the account settings API `two_factor.enabled`, 04 `requireMFA`, 05 `mfaRequired`).
    pub mfa_required: bool,
    /// The second factor members use (the account settings API `two_factor.method`).
    pub mfa_method: MfaMethod,
    /// Requests from outside the allowlist are refused.
    pub ip_allowlist_enforced: bool,
    pub max_api_keys: u32,
    /// Absolute session lifetime (the account settings API `session.timeout` in hours).
    pub absolute_session_minutes: u32,
    /// Idle timeout; `None` disables it.
    pub idle_timeout_minutes: Option<u32>,
    pub extend_on_activity: bool,
    pub concurrent_sessions: u32,
    pub reauth_for_sensitive: bool,
    /// `None` = passwords never expire.
    pub password_expiry_days: Option<u32>,
    /// Members inactive this long are suspended; `None` = never.
    pub inactivity_lock_days: Option<u32>,
    pub audit_retention_days: u32,
    pub log_api_requests: bool,
    pub log_resource_access: bool,
    /// Origins a portal link's `returnUrl` may point to, besides the operator's
    /// (`TENANTRY_PORTAL_RETURN_ORIGINS`); canonical `scheme://host[:port]` (decision 0030).
    pub portal_return_origins: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaMethod {
    Totp,
    Sms,
}

impl Default for SecurityPolicy {
    /// The defaults of API-MAP.md.
    fn default() -> Self {
        Self {
            mfa_required: false,
            mfa_method: MfaMethod::Totp,
            ip_allowlist_enforced: false,
            max_api_keys: 20,
            absolute_session_minutes: 1440,
            idle_timeout_minutes: Some(60),
            extend_on_activity: true,
            concurrent_sessions: 5,
            reauth_for_sensitive: true,
            password_expiry_days: Some(90),
            inactivity_lock_days: None,
            audit_retention_days: 90,
            log_api_requests: true,
            log_resource_access: true,
            portal_return_origins: Vec::new(),
        }
    }
}

impl SecurityPolicy {
    /// The policy in a stored security document (`None`: never stored, the defaults apply).
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
fn hours(minutes: u32) -> Value {
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
                .integer(m, "max_api_keys", p, 1, 50)
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
            if let Some(h) = f.number(m, "timeout", p, 1.0, 168.0) {
                // Whole minutes: 1.5 h is 90 min; finer fractions round to the nearest minute.
                next.absolute_session_minutes = (h * 60.0).round() as u32;
            }
            next.reauth_for_sensitive = f
                .bool(m, "require_reauth_for_sensitive", p)
                .unwrap_or(next.reauth_for_sensitive);
            next.concurrent_sessions = f
                .integer(m, "concurrent_sessions", p, 1, 10)
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
                .integer(m, "retention_days", p, 30, 365)
                .unwrap_or(next.audit_retention_days);
        }
        Some((next, allowlist))
    }
}
