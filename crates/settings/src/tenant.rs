//! The tenant settings: the same domain fields the account settings
//! API shows (MFA required, password expiry, concurrent sessions, allowlist, audit retention)
//! plus the account's branding and feature limits, read and written as one [`TenantSettings`].
//! The tenant settings API's camelCase document and its merge-patch reading are that API's own
//! (the HTTP crate's `tenant_settings` dialect, decision 0043); the service here takes and
//! returns the domain value.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tenantry_billing::Limits;
use tenantry_kernel::Email;
use tenantry_security::Cidr;

use crate::{HttpsUrl, SecurityPolicy};

/// The stored section name of the account's branding ([`BrandingSettings`]), which only the
/// tenant settings API shows.
pub const BRANDING: &str = "branding";
/// The stored section name of the account's own limits ([`FeatureLimits`]), which only the tenant
/// settings API shows.
pub const FEATURES: &str = "features";

/// A colour as `#rrggbb` (a 3-digit `#rgb` is expanded), stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexColor(String);

impl HexColor {
    /// Reads `#rrggbb` or `#rgb` in either case; anything else is refused with a message that
    /// shows the expected form.
    ///
    /// ```
    /// use tenantry_settings::tenant::HexColor;
    ///
    /// assert_eq!(HexColor::parse("#ABC").unwrap().as_str(), "#aabbcc");
    /// assert!(HexColor::parse("6366f1").is_err());
    /// ```
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

    /// The colour as `#rrggbb`, lowercase.
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

/// The account's branding: what the pages and emails it sends people to wear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandingSettings {
    /// The accent colour (default `#6366f1`).
    pub primary_color: HexColor,
    /// The logo, served over https.
    pub logo_url: Option<HttpsUrl>,
    /// Where people are told to ask for help.
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

/// The account's own limits, each at most what its tier allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureLimits {
    /// Organizations the account may have (default 10).
    pub max_organizations: u32,
    /// Members the account may have, pending invitations included (default 100).
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

/// An account's settings as the tenant settings API shows them: the security policy with its
/// allowlist, the account's own limits and its branding.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSettings {
    /// The security policy.
    pub security: SecurityPolicy,
    /// The IP allowlist, in creation order.
    pub allowlist: Vec<Cidr>,
    /// The account's own limits.
    pub features: FeatureLimits,
    /// The account's branding.
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

/// The tenant settings with the entity tag that a change's preconditions are compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantView {
    /// The settings.
    pub settings: TenantSettings,
    /// Changes whenever the security policy, the allowlist, the limits or the branding do.
    pub etag: String,
}

/// A change of the tenant settings, worked out from the current ones and the tier's limits
/// inside the write's transaction (a merge patch depends on what it merges onto). It reports
/// every invalid field the way its API names them.
pub type TenantChange<'a> =
    &'a dyn Fn(&TenantSettings, Limits) -> Result<TenantSettings, crate::SettingsError>;

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

    /// How many members (pending invitations included) the account may have: its own limit
    /// ([`FeatureLimits::max_users_per_organization`]).
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

    /// The tenant's settings; any member of the tenant may read them, anyone else gets
    /// `UnknownTenant`.
    pub fn tenant_settings(
        &self,
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
    ) -> Result<TenantSettings, crate::SettingsError> {
        self.tenant_settings_view(actor, tenant)
            .map(|view| view.settings)
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
            settings,
            etag: versions.etag(),
        })
    }

    /// Changes the tenant's settings: `change` worked out over the current settings, validated
    /// as a whole and written (security, features, branding) in one transaction. Admins only;
    /// the lockout guard applies. `preconditions` are checked against the ETag in the write's
    /// own transaction, so a concurrent write cannot slip between.
    ///
    /// `change` is `Err` when the request could not be read as a change at all (a body that is
    /// not a JSON object): that answer is given only after the caller is known to be an admin
    /// of this tenant, so an outsider learns nothing from it.
    pub fn patch_tenant_settings(
        &self,
        actor: &tenantry_kernel::Actor,
        tenant: tenantry_kernel::AccountId,
        change: Result<TenantChange<'_>, crate::SettingsError>,
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
        let change = change?;
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
            let next = change(&current, limits)?;
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
            rendered = Some(next);
            Ok(writes)
        })?;
        self.policies().invalidate(actor.account_id);
        for (name, version) in &applied.sections {
            versions.set(name, *version);
        }
        Ok(TenantView {
            settings: rendered.ok_or_else(|| corrupt("store did not run the change"))?,
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
