//! The IP allowlist policy as the account's security section keeps it: read and compiled for
//! the security context's enforcement (bridged by the binary), and the operator's break-glass
//! that turns enforcement off. Enforcing it on requests is the security context's
//! (`tenantry_security::AllowlistEnforcement`); every write here forgets the account's cached
//! policy on this node ([`tenantry_security::AllowlistCache::invalidate`]).

use tenantry_kernel::{AccountId, AuditId, PortError};
use tenantry_security::{AllowlistPolicy, Cidr};

use crate::ports::{AuditRecord, SectionWrite, WriteContext, Writes};
use crate::{SecurityPolicy, SettingsError, SettingsService};

impl SettingsService {
    /// The account's allowlist policy as stored now (no cache: the enforcement caches it):
    /// whether it is enforced, with its entries. A stored document or entry that does not
    /// parse is `Port(Corrupt)`, never "not enforced".
    pub fn stored_allowlist_policy(
        &self,
        account: AccountId,
    ) -> Result<AllowlistPolicy, SettingsError> {
        let (doc, list) = self.store().allowlist_source(account)?;
        let enforced = match doc {
            Some(doc) => {
                serde_json::from_value::<SecurityPolicy>(doc)
                    .map_err(|e| {
                        SettingsError::Port(PortError::Corrupt(format!("security settings: {e}")))
                    })?
                    .ip_allowlist_enforced
            }
            None => false,
        };
        let cidrs = list
            .iter()
            .map(|c| {
                Cidr::parse(c).map_err(|e| {
                    SettingsError::Port(PortError::Corrupt(format!("allowlist entry {c}: {e}")))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowlistPolicy::new(enforced, &cidrs))
    }

    /// The account's security policy as stored now, read on every call (no cache): what the
    /// security context's ports ask (key limits, session rules, portal origins) decides
    /// whether a credential is handed out, and those calls are rare.
    pub fn stored_security_policy(&self, account: AccountId) -> Result<SecurityPolicy, PortError> {
        let (doc, _) = self.store().allowlist_source(account)?;
        SecurityPolicy::from_stored(doc)
    }

    /// Break-glass: turns allowlist enforcement off for `account` as the operator (audited),
    /// whatever the current list. Returns whether it was on.
    pub fn break_glass_disable_allowlist(&self, account: AccountId) -> Result<bool, SettingsError> {
        let ctx = WriteContext {
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
                    .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?,
                None => SecurityPolicy::default(),
            };
            was_on = policy.ip_allowlist_enforced;
            policy.ip_allowlist_enforced = false;
            let document = serde_json::to_value(&policy)
                .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?;
            let mut history = document.clone();
            history["ip_allowlist"] = serde_json::json!(current.allowlist);
            Ok(Writes {
                sections: vec![(
                    "security".into(),
                    SectionWrite {
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
