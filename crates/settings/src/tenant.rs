//! The tenant settings API's tenant settings (`/tenants/{id}/settings`): one camelCase document over the same
//! domain fields the account settings API shows (MFA required, password expiry, concurrent sessions, allowlist,
//! audit retention) plus the account's branding and feature limits. Updates are RFC 7396 merge
//! patches; a field patched to `null` returns to its default.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tenantry_billing::Limits;
use tenantry_kernel::Email;
use tenantry_security::Cidr;

use crate::fields::{join, Fields};
use crate::{HttpsUrl, SecurityPolicy};

/// The stored section names of the two documents only the tenant settings API shows.
pub const BRANDING: &str = "branding";
pub const FEATURES: &str = "features";

/// A colour as `#rrggbb` (a 3-digit `#rgb` is expanded), stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexColor(String);

impl HexColor {
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex = s
            .strip_prefix('#')
            .ok_or("must be a hex colour like #6366f1")?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("must be a hex colour like #6366f1".into());
        }
        match hex.len() {
            6 => Ok(Self(format!("#{}", hex.to_ascii_lowercase()))),
            3 => Ok(Self(format!(
                "#{}",
                hex.chars()
                    .flat_map(|c| [c, c])
                    .collect::<String>()
                    .to_ascii_lowercase()
            ))),
            _ => Err("must be a hex colour like #6366f1".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HexColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for HexColor {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<HexColor> for String {
    fn from(c: HexColor) -> String {
        c.0
    }
}

/// The account's branding (the tenant settings API `branding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandingSettings {
    pub primary_color: HexColor,
    pub logo_url: Option<HttpsUrl>,
    pub support_email: Option<Email>,
}

impl Default for BrandingSettings {
    fn default() -> Self {
        Self {
            primary_color: HexColor("#6366f1".into()),
            logo_url: None,
            support_email: None,
        }
    }
}

/// The account's own limits (the tenant settings API `features`), at most what its tier allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureLimits {
    pub max_organizations: u32,
    pub max_users_per_organization: u32,
}

impl Default for FeatureLimits {
    fn default() -> Self {
        Self {
            max_organizations: 10,
            max_users_per_organization: 100,
        }
    }
}

/// Everything the tenant settings API's document shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSettings {
    pub security: SecurityPolicy,
    pub allowlist: Vec<Cidr>,
    pub features: FeatureLimits,
    pub branding: BrandingSettings,
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` removes the member, any other
/// value replaces the target.
pub fn rfc7396_merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(members) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                for (key, value) in members {
                    if value.is_null() {
                        map.remove(key);
                    } else {
                        rfc7396_merge(map.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

impl TenantSettings {
    /// The tenant settings API's document.
    pub fn render(&self) -> Value {
        json!({
            "security": {
                "mfaRequired": self.security.mfa_required,
                "passwordExpiryDays": self.security.password_expiry_days.unwrap_or(0),
                "maxConcurrentSessions": self.security.concurrent_sessions,
                // The ranges in force: none while enforcement is off (docs/api/mapping.md).
                "allowedIpRanges": if self.security.ip_allowlist_enforced {
                    self.allowlist.iter().map(ToString::to_string).collect::<Vec<_>>()
                } else {
                    Vec::new()
                },
            },
            "features": {
                "auditLogRetentionDays": self.security.audit_retention_days,
                "maxOrganizations": self.features.max_organizations,
                "maxUsersPerOrganization": self.features.max_users_per_organization,
            },
            "branding": {
                "primaryColor": self.branding.primary_color.as_str(),
                "logoUrl": self.branding.logo_url.as_ref().map(HttpsUrl::as_str),
                "supportEmail": self.branding.support_email.as_ref().map(Email::as_str),
            },
        })
    }

    /// Reads a merged the tenant settings API document onto `self`: absent fields (a patch's `null`) take the
    /// defaults. Changed numbers are checked against the tenant settings API's ranges and the tier's `limits`;
    /// every invalid field is reported. `f` must be made [`Fields::over`] `self.render()`.
    pub fn read(
        &self,
        doc: &Value,
        limits: Limits,
        f: &mut Fields,
        invalid_ips: &mut Vec<String>,
    ) -> Option<Self> {
        let root = f.object(doc, "", &["security", "features", "branding"])?;
        let empty = Map::new();
        let section = |f: &mut Fields, key: &str, known: &[&str]| -> Map<String, Value> {
            match root.get(key) {
                None | Some(Value::Null) => empty.clone(),
                Some(v) => f.object(v, key, known).cloned().unwrap_or_default(),
            }
        };
        let sec = section(
            f,
            "security",
            &[
                "mfaRequired",
                "passwordExpiryDays",
                "maxConcurrentSessions",
                "allowedIpRanges",
            ],
        );
        let feat = section(
            f,
            "features",
            &[
                "auditLogRetentionDays",
                "maxOrganizations",
                "maxUsersPerOrganization",
            ],
        );
        let brand = section(f, "branding", &["primaryColor", "logoUrl", "supportEmail"]);
        let defaults = SecurityPolicy::default();

        let mut security = self.security.clone();
        let mfa = opt(&sec, "mfaRequired").map_or(Some(defaults.mfa_required), |_| {
            f.bool(&sec, "mfaRequired", "security")
        });
        let expiry = opt(&sec, "passwordExpiryDays").map_or(Some(90), |_| {
            non_negative(f, &sec, "passwordExpiryDays", "security", 3650)
        });
        let sessions = opt(&sec, "maxConcurrentSessions")
            .map_or(Some(defaults.concurrent_sessions), |_| {
                f.integer(&sec, "maxConcurrentSessions", "security", 1, 100)
            });
        let ranges = sec.get("allowedIpRanges");
        let mut allowlist = Vec::new();
        match ranges {
            None => {}
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
            Some(_) => f.error(
                "security.allowedIpRanges",
                "must be an array of at most 1000 CIDR blocks",
            ),
        }
        // The tenant settings API shows the ranges in force and has no enforcement flag: the list sent back as
        // read (in any order) changes nothing; a changed list replaces the entries, and turns
        // enforcement on when it is non-empty, off when it is empty.
        let shown: Vec<Cidr> = if self.security.ip_allowlist_enforced {
            self.allowlist.clone()
        } else {
            Vec::new()
        };
        let same_set =
            allowlist.len() == shown.len() && allowlist.iter().all(|c| shown.contains(c));
        if same_set {
            allowlist = self.allowlist.clone();
        } else {
            security.ip_allowlist_enforced = !allowlist.is_empty();
            allowlist = crate::security_policy::in_stored_order(&self.allowlist, &allowlist);
        }
        let retention =
            opt(&feat, "auditLogRetentionDays").map_or(Some(defaults.audit_retention_days), |_| {
                f.integer(
                    &feat,
                    "auditLogRetentionDays",
                    "features",
                    1,
                    limits.max_audit_retention_days,
                )
            });
        let max_orgs = opt(&feat, "maxOrganizations").map_or(
            Some(
                FeatureLimits::default()
                    .max_organizations
                    .min(limits.max_organizations),
            ),
            |_| {
                f.integer(
                    &feat,
                    "maxOrganizations",
                    "features",
                    1,
                    limits.max_organizations,
                )
            },
        );
        let max_users = opt(&feat, "maxUsersPerOrganization").map_or(
            Some(
                FeatureLimits::default()
                    .max_users_per_organization
                    .min(limits.max_members),
            ),
            |_| {
                f.integer(
                    &feat,
                    "maxUsersPerOrganization",
                    "features",
                    1,
                    limits.max_members,
                )
            },
        );

        let defaults_b = BrandingSettings::default();
        let color = opt(&brand, "primaryColor")
            .map_or(Some(defaults_b.primary_color.clone()), |_| {
                f.parse(&brand, "primaryColor", "branding", HexColor::parse, None)
            });
        let logo = f.parse_opt(&brand, "logoUrl", "branding", HttpsUrl::parse);
        let email = f.parse_opt(&brand, "supportEmail", "branding", |s| {
            Email::parse(s).map_err(|e| e.to_string())
        });
        // Every field was read (each error recorded) before any is given up on.
        security.mfa_required = mfa?;
        security.password_expiry_days = expiry.map(|e| (e > 0).then_some(e))?;
        security.concurrent_sessions = sessions?;
        security.audit_retention_days = retention?;
        Some(Self {
            security,
            allowlist,
            features: FeatureLimits {
                max_organizations: max_orgs?,
                max_users_per_organization: max_users?,
            },
            branding: BrandingSettings {
                primary_color: color?,
                logo_url: logo?,
                support_email: email?,
            },
        })
    }
}

fn opt<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn non_negative(
    f: &mut Fields,
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    max: u32,
) -> Option<u32> {
    let field = join(path, key);
    let value = map.get(key);
    match value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
    {
        Some(n) if n <= max || f.unchanged(&field, value) => Some(n),
        _ if !value.is_some_and(Value::is_number) => {
            f.type_error(field, value, "an integer", 0.0, f64::from(max));
            None
        }
        Some(_) => {
            f.error(
                join(path, key),
                format!("{key} must be at most {max} (0 = never)"),
            );
            None
        }
        None => {
            f.error(
                join(path, key),
                format!("{key} must be a non-negative number"),
            );
            None
        }
    }
}

fn corrupt(what: impl fmt::Display) -> crate::SettingsError {
    crate::SettingsError::Port(tenantry_kernel::PortError::Corrupt(what.to_string()))
}

fn stored<T: serde::de::DeserializeOwned + Default>(
    doc: Option<&Value>,
    what: &str,
) -> Result<T, crate::SettingsError> {
    doc.map_or_else(
        || Ok(T::default()),
        |d| serde_json::from_value(d.clone()).map_err(|e| corrupt(format!("{what}: {e}"))),
    )
}

/// The versions of the three stored sections the tenant settings API's document shows; every write of any of
/// them (through any dialect, the allowlist included) makes a new version, so together they are
/// a strong validator of the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TenantVersions {
    security: i64,
    features: i64,
    branding: i64,
}

impl TenantVersions {
    fn set(&mut self, section: &str, version: i64) {
        match section {
            "security" => self.security = version,
            FEATURES => self.features = version,
            BRANDING => self.branding = version,
            _ => {}
        }
    }

    /// The opaque text of the ETag: unlike any the account settings API tag, so neither is taken for the other.
    fn opaque(self) -> String {
        format!(
            "tenant-s{}-f{}-b{}",
            self.security, self.features, self.branding
        )
    }

    fn etag(self) -> String {
        format!("\"{}\"", self.opaque())
    }
}

/// The tenant settings API's document with the ETag that `PATCH` compares `If-Match` and `If-None-Match` with.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantView {
    pub document: Value,
    pub etag: String,
}

fn limits_of(tier: &str) -> Limits {
    tier.parse::<tenantry_billing::Tier>()
        .unwrap_or(tenantry_billing::Tier::Free)
        .limits()
}

impl crate::SettingsService {
    fn tenant_guard(
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
    ) -> Result<(), crate::SettingsError> {
        // Another account's id answers exactly like an unknown one (API-MAP.md: never 403).
        if tenant == actor.account_id {
            Ok(())
        } else {
            Err(crate::SettingsError::UnknownTenant)
        }
    }

    /// `maxUsersPerOrganization`: how many members (pending invitations included) the account
    /// may have.
    pub fn max_members(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<u32, crate::SettingsError> {
        let doc = self.store().section_document(account, FEATURES)?;
        let limits: FeatureLimits = stored(doc.as_ref(), "feature limits")?;
        Ok(limits.max_users_per_organization)
    }

    /// The account's branding, for the pages and emails that wear it. Branding is what an
    /// account shows to anyone it sends a link to, so reading it needs no actor.
    pub fn branding(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<BrandingSettings, crate::SettingsError> {
        let doc = self.store().section_document(account, BRANDING)?;
        stored(doc.as_ref(), "branding")
    }

    /// The tenant settings API's `GET /tenants/{id}/settings`; any member of the account.
    pub fn tenant_settings(
        &self,
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
    ) -> Result<Value, crate::SettingsError> {
        self.tenant_settings_view(actor, tenant)
            .map(|view| view.document)
    }

    /// [`Self::tenant_settings`] with its ETag.
    pub fn tenant_settings_view(
        &self,
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
    ) -> Result<TenantView, crate::SettingsError> {
        Self::tenant_guard(actor, tenant)?;
        let stored_settings = self.snapshot(actor.account_id, actor.user_id)?;
        let mut versions = TenantVersions::default();
        for s in &stored_settings.sections {
            versions.set(&s.section, s.version);
        }
        let doc = |name: &str| {
            stored_settings
                .sections
                .iter()
                .find(|s| s.section == name)
                .map(|s| &s.document)
        };
        let settings = TenantSettings {
            security: stored(doc("security"), "security settings")?,
            allowlist: stored_settings
                .allowlist
                .iter()
                .map(|c| Cidr::parse(c).map_err(corrupt))
                .collect::<Result<_, _>>()?,
            features: stored(doc(FEATURES), "feature limits")?,
            branding: stored(doc(BRANDING), "branding")?,
        };
        Ok(TenantView {
            document: settings.render(),
            etag: versions.etag(),
        })
    }

    /// The tenant settings API's `PATCH /tenants/{id}/settings`: an RFC 7396 merge patch over the document,
    /// validated as a whole and written (security, features, branding) in one transaction.
    /// Admins only; the lockout guard applies. `preconditions` are checked against the
    /// document's ETag in the write's own transaction, so a concurrent write cannot slip between.
    pub fn patch_tenant_settings(
        &self,
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
        patch: &Value,
        preconditions: &crate::Preconditions,
    ) -> Result<TenantView, crate::SettingsError> {
        Self::tenant_guard(actor, tenant)?;
        if actor.role < tenantry_kernel::Role::Admin {
            return Err(crate::SettingsError::Forbidden {
                section: "tenant",
                required: tenantry_kernel::Role::Admin,
                current: actor.role,
            });
        }
        if !patch.is_object() {
            return Err(crate::SettingsError::Validation(vec![crate::FieldError {
                field: String::new(),
                message: "the body must be a JSON object".into(),
                allowed: None,
            }]));
        }
        let ctx = self.write_context(actor);
        let mut rendered = None;
        let mut versions = TenantVersions::default();
        let applied = self.store().update(&ctx, &[BRANDING, FEATURES, "security"], false, &mut |snapshot| {
            for (name, current) in &snapshot.sections {
                versions.set(name, current.version);
            }
            let current_tag = versions.opaque();
            preconditions
                .evaluate(|tag| tag == current_tag)
                .map_err(|failed| crate::SettingsError::PreconditionFailed {
                    header: failed.header(),
                    etag: versions.etag(),
                })?;
            let limits = limits_of(&snapshot.tier);
            let mut docs = std::collections::HashMap::new();
            let mut allowlist_text = Vec::new();
            for (name, current) in &snapshot.sections {
                if name == "security" {
                    allowlist_text = current.allowlist.clone();
                }
                docs.insert(name.clone(), current.document.clone());
            }
            let current = TenantSettings {
                security: stored(docs.get("security").and_then(Option::as_ref), "security settings")?,
                allowlist: allowlist_text.iter().map(|c| Cidr::parse(c).map_err(corrupt)).collect::<Result<_, _>>()?,
                features: stored(docs.get(FEATURES).and_then(Option::as_ref), "feature limits")?,
                branding: stored(docs.get(BRANDING).and_then(Option::as_ref), "branding")?,
            };
            let mut doc = current.render();
            let mut fields = Fields::over(doc.clone());
            rfc7396_merge(&mut doc, patch);
            let mut invalid = Vec::new();
            let next = current.read(&doc, limits, &mut fields, &mut invalid);
            let next = crate::service::check(fields, invalid, next)?;
            crate::service::LockoutGuard { caller: actor.ip }.check(next.security.ip_allowlist_enforced, &next.allowlist)?;

            let mut writes = crate::ports::Writes::default();
            let mut section = |name: &str, before: Option<&Value>, after: Value, history: Value, allowlist: Option<Vec<Cidr>>| {
                let before_snapshot = match (name, before) {
                    ("security", Some(b)) => { let mut b = b.clone(); b["ip_allowlist"] = json!(allowlist_text); b }
                    (_, Some(b)) => b.clone(),
                    // Never stored: the defaults are in force, so only a change of them writes.
                    ("security", None) => { let mut b = serde_json::to_value(SecurityPolicy::default()).unwrap_or_default(); b["ip_allowlist"] = json!(allowlist_text); b }
                    (FEATURES, None) => serde_json::to_value(FeatureLimits::default()).unwrap_or_default(),
                    (_, None) => serde_json::to_value(BrandingSettings::default()).unwrap_or_default(),
                };
                let changes = crate::diff::diff(&before_snapshot, &history);
                if changes.is_empty() {
                    return;
                }
                writes.sections.push((name.to_owned(), crate::ports::SectionWrite {
                    document: after,
                    history_document: history,
                    allowlist,
                    audit: crate::ports::AuditRecord {
                        id: tenantry_kernel::AuditId::generate(self.clock(), self.random()),
                        action: "settings.updated".into(),
                        target: name.to_owned(),
                        diff: json!({ "section": name, "changes": changes, "via": "tenant settings" }),
                    },
                }));
            };
            let security = serde_json::to_value(&next.security).map_err(corrupt)?;
            let mut security_history = security.clone();
            security_history["ip_allowlist"] = json!(next.allowlist.iter().map(ToString::to_string).collect::<Vec<_>>());
            section("security", docs.get("security").and_then(Option::as_ref), security, security_history, Some(next.allowlist.clone()));
            let features = serde_json::to_value(next.features).map_err(corrupt)?;
            section(FEATURES, docs.get(FEATURES).and_then(Option::as_ref), features.clone(), features, None);
            let branding = serde_json::to_value(&next.branding).map_err(corrupt)?;
            section(BRANDING, docs.get(BRANDING).and_then(Option::as_ref), branding.clone(), branding, None);
            rendered = Some(next.render());
            Ok(writes)
        })?;
        self.policies().invalidate(actor.account_id);
        for (name, version) in &applied.sections {
            versions.set(name, *version);
        }
        Ok(TenantView {
            document: rendered.ok_or_else(|| corrupt("store did not run the change"))?,
            etag: versions.etag(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_normalise() {
        assert_eq!(
            HexColor::parse("#6366F1").map(|c| c.0),
            Ok("#6366f1".into())
        );
        assert_eq!(HexColor::parse("#abc").map(|c| c.0), Ok("#aabbcc".into()));
        for bad in ["6366f1", "#12345", "#ggg", "#", "red"] {
            assert!(HexColor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc7396_examples() {
        // From RFC 7396, appendix A (a selection).
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut target, patch, expected) in cases {
            rfc7396_merge(&mut target, &patch);
            assert_eq!(target, expected, "{patch}");
        }
    }
}
