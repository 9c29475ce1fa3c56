//! The settings catalog API's `SECURITY_PREFERENCES` setting: four fields of the one security
//! policy. The service reads and changes the domain [`SecurityPolicy`]; the API's camelCase
//! document, its "0 = not set" convention and its write ranges are the dialect's (decision 0043).

use serde_json::json;
use tenantry_kernel::{Actor, AuditId, Role};

use crate::ports::{AuditRecord, SectionWrite, Writes};
use crate::{SecurityPolicy, SettingsError, SettingsService};

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

    /// The security policy as the settings catalog API's `SECURITY_PREFERENCES` setting:
    /// admins of the account named `account_name` only (another account's name answers
    /// `UnknownTenant`, a lower role `Forbidden`).
    pub fn security_preferences(
        &self,
        actor: &Actor,
        account_name: &str,
    ) -> Result<SecurityPolicy, SettingsError> {
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
        Ok(policy)
    }

    /// Creates, replaces or merges `SECURITY_PREFERENCES`, audited, in one transaction: `change`
    /// works out the new policy from the stored one (an unchanged policy is no write).
    pub fn set_security_preferences(
        &self,
        actor: &Actor,
        account_name: &str,
        change: &dyn Fn(&SecurityPolicy) -> Result<SecurityPolicy, SettingsError>,
    ) -> Result<SecurityPolicy, SettingsError> {
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
            let next = change(&before)?;
            let corrupt = |e: serde_json::Error| SettingsError::Port(tenantry_kernel::PortError::Corrupt(e.to_string()));
            let before_doc = serde_json::to_value(&before).map_err(corrupt)?;
            let document = serde_json::to_value(&next).map_err(corrupt)?;
            let mut history = document.clone();
            history["ip_allowlist"] = json!(current.allowlist);
            let changes = crate::diff::diff(&before_doc, &document);
            rendered = Some(next);
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
