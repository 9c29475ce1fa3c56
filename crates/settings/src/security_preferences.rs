//! The settings catalog API's `SECURITY_PREFERENCES` setting: four fields of the one security policy, in the
//! catalog API's camelCase and with its "0 = not set" convention.

use serde_json::{json, Map, Value};
use tenantry_kernel::{Actor, AuditId, Role};

use crate::fields::{join, Fields};
use crate::ports::{AuditRecord, SectionWrite, Writes};
use crate::{SecurityPolicy, SettingsError, SettingsService};

const KEYS: [&str; 4] = [
    "requireMFA",
    "inactivityTimeout",
    "passwordExpiration",
    "inactivityUserLockThreshold",
];

/// How a write combines with the stored preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreferencesWriteMode {
    /// POST / PUT: the numeric fields are required; `requireMFA` absent keeps its value.
    Replace,
    /// PATCH: fields left out keep their value; `null` returns one to its default.
    Partial,
}

/// The settings catalog API's document.
pub fn render(policy: &SecurityPolicy) -> Value {
    json!({
        "securityPreferences": {
            "requireMFA": policy.mfa_required,
            "inactivityTimeout": policy.idle_timeout_minutes.unwrap_or(0),
            "passwordExpiration": policy.password_expiry_days.unwrap_or(0),
            "inactivityUserLockThreshold": policy.inactivity_lock_days.unwrap_or(0),
        }
    })
}

/// `0` (not set) or a value in `min..=max`, or the value the stored policy shows (unchanged:
/// another dialect may have stored a value outside this one's range, see [`Fields::over`]).
fn zero_or_range(
    f: &mut Fields,
    map: &Map<String, Value>,
    key: &str,
    min: u32,
    max: u32,
) -> Option<Option<u32>> {
    let field = join("securityPreferences", key);
    let value = map.get(key);
    match value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
    {
        Some(0) => Some(None),
        Some(n) if (min..=max).contains(&n) || f.unchanged(&field, value) => Some(Some(n)),
        _ if !value.is_some_and(Value::is_number) => {
            f.error_allowed(
                field,
                format!(
                    "{key} must be an integer (a JSON number), not a {}",
                    crate::fields::json_type(value)
                ),
                json!({ "type": "integer", "oneOf": [0, { "minimum": min, "maximum": max }] }),
            );
            None
        }
        _ => {
            f.error_allowed(
                field,
                format!("{key} must be 0 or between {min} and {max}"),
                json!({ "oneOf": [0, { "minimum": min, "maximum": max }] }),
            );
            None
        }
    }
}

/// Reads a request body onto `current`. A replacing write (POST, PUT) must name the three
/// numeric fields: each missing one is reported (the catalog's rule for documents it creates);
/// `requireMFA` left out keeps its value, as the catalog's create example leaves it out. A partial write
/// (PATCH) follows RFC 7396, so `null` returns a field to the policy's default.
pub fn read(
    body: &Value,
    current: &SecurityPolicy,
    mode: PreferencesWriteMode,
    f: &mut Fields,
) -> Option<SecurityPolicy> {
    let root = f.object(body, "", &["securityPreferences"])?;
    let Some(prefs) = root.get("securityPreferences") else {
        f.error("securityPreferences", "is required");
        return None;
    };
    let prefs = f.object(prefs, "securityPreferences", &KEYS)?.clone();
    let mut next = current.clone();
    let defaults = SecurityPolicy::default();
    let mut ok = true;
    for key in KEYS {
        match prefs.get(key) {
            Some(Value::Null) if mode == PreferencesWriteMode::Partial => match key {
                "requireMFA" => next.mfa_required = defaults.mfa_required,
                "inactivityTimeout" => next.idle_timeout_minutes = defaults.idle_timeout_minutes,
                "passwordExpiration" => next.password_expiry_days = defaults.password_expiry_days,
                _ => next.inactivity_lock_days = defaults.inactivity_lock_days,
            },
            None if mode == PreferencesWriteMode::Partial => {}
            // The catalog's own create example leaves `requireMFA` out: absent, it keeps the
            // stored value (never silently switches mandatory MFA off).
            None if key == "requireMFA" => {}
            None | Some(Value::Null) => {
                f.error(join("securityPreferences", key), "is required");
                ok = false;
            }
            Some(_) if key == "requireMFA" => {
                match f.bool(&prefs, "requireMFA", "securityPreferences") {
                    Some(b) => next.mfa_required = b,
                    None => ok = false,
                }
            }
            Some(_) => {
                let (min, max) = match key {
                    "inactivityTimeout" => (10, 120),
                    "passwordExpiration" => (14, 365),
                    _ => (60, 365),
                };
                match zero_or_range(f, &prefs, key, min, max) {
                    Some(v) => match key {
                        "inactivityTimeout" => next.idle_timeout_minutes = v,
                        "passwordExpiration" => next.password_expiry_days = v,
                        _ => next.inactivity_lock_days = v,
                    },
                    None => ok = false,
                }
            }
        }
    }
    ok.then_some(next)
}

impl SettingsService {
    pub(crate) fn require_catalog_admin(
        actor: &Actor,
        account_name: &str,
        stored_name: &str,
    ) -> Result<(), SettingsError> {
        // Another account's name answers like an unknown one (API-MAP.md: never 403).
        if account_name != stored_name {
            return Err(SettingsError::UnknownTenant);
        }
        // The settings catalog API: only the owner and administrators read or change account settings.
        if actor.role < Role::Admin {
            return Err(SettingsError::Forbidden {
                section: "security preferences",
                required: Role::Admin,
                current: actor.role,
            });
        }
        Ok(())
    }

    /// `GET /accounts/{accountName}/settings/SECURITY_PREFERENCES`.
    pub fn security_preferences(
        &self,
        actor: &Actor,
        account_name: &str,
    ) -> Result<Value, SettingsError> {
        let stored = self.store().load(actor.account_id, actor.user_id)?;
        Self::require_catalog_admin(actor, account_name, &stored.account_name)?;
        let policy: SecurityPolicy = stored
            .sections
            .iter()
            .find(|s| s.section == "security")
            .map(|s| serde_json::from_value(s.document.clone()))
            .transpose()
            .map_err(|e| {
                SettingsError::Port(tenantry_kernel::PortError::Corrupt(format!(
                    "security settings: {e}"
                )))
            })?
            .unwrap_or_default();
        Ok(render(&policy))
    }

    /// POST / PUT / PATCH of `SECURITY_PREFERENCES`, audited, in one transaction.
    pub fn set_security_preferences(
        &self,
        actor: &Actor,
        account_name: &str,
        body: &Value,
        mode: PreferencesWriteMode,
    ) -> Result<Value, SettingsError> {
        let stored = self.store().load(actor.account_id, actor.user_id)?;
        Self::require_catalog_admin(actor, account_name, &stored.account_name)?;
        let mut rendered = None;
        self.store().update(&self.write_context(actor), &["security"], false, &mut |snapshot| {
            let (_, current) = snapshot.sections.into_iter().next().ok_or(SettingsError::UnknownTenant)?;
            let before: SecurityPolicy = current
                .document
                .as_ref()
                .map(|d| serde_json::from_value(d.clone()))
                .transpose()
                .map_err(|e| SettingsError::Port(tenantry_kernel::PortError::Corrupt(format!("security settings: {e}"))))?
                .unwrap_or_default();
            let mut fields = Fields::over(render(&before));
            let next = read(body, &before, mode, &mut fields);
            let next = crate::service::check(fields, Vec::new(), next)?;
            let corrupt = |e: serde_json::Error| SettingsError::Port(tenantry_kernel::PortError::Corrupt(e.to_string()));
            let before_doc = serde_json::to_value(&before).map_err(corrupt)?;
            let document = serde_json::to_value(&next).map_err(corrupt)?;
            let mut history = document.clone();
            history["ip_allowlist"] = json!(current.allowlist);
            let changes = crate::diff::diff(&before_doc, &document);
            rendered = Some(render(&next));
            if changes.is_empty() {
                return Ok(Writes::default());
            }
            Ok(Writes {
                sections: vec![(
                    "security".into(),
                    SectionWrite {
                        document,
                        history_document: history,
                        allowlist: None,
                        audit: AuditRecord {
                            id: AuditId::generate(self.clock(), self.random()),
                            action: "settings.updated".into(),
                            target: "security".into(),
                            diff: json!({ "section": "security", "changes": changes, "via": "SECURITY_PREFERENCES" }),
                        },
                    },
                )],
                ..Writes::default()
            })
        })?;
        rendered.ok_or_else(|| {
            SettingsError::Port(tenantry_kernel::PortError::Corrupt(
                "store did not run the change".into(),
            ))
        })
    }
}
