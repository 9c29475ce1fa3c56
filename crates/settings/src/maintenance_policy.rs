//! The security-policy values the maintenance job applies in other contexts: each account's
//! audit retention (the security context purges) and inactivity threshold (the team context
//! suspends). Both are read here because the policy document is this context's; the binary
//! bridges them to their enforcers.

use tenantry_kernel::AccountId;
use tenantry_security::{InactivityLock, RetentionDays};

use crate::{SecurityPolicy, SettingsError, SettingsService};

impl SettingsService {
    /// Every account with its `audit.retention_days` (the default where its security section
    /// sets none): what the audit retention purge deletes after.
    pub fn audit_retention_days(&self) -> Result<Vec<(AccountId, RetentionDays)>, SettingsError> {
        self.store()
            .retention_sources()?
            .into_iter()
            .map(|(account, security)| {
                Ok((
                    account,
                    SecurityPolicy::from_stored(security)?.audit_retention_days,
                ))
            })
            .collect()
    }

    /// Each account's `inactivityUserLockThreshold` in days, for the accounts that set one: the
    /// team context suspends members inactive that long (the binary's maintenance job joins
    /// the two).
    pub fn inactivity_thresholds(&self) -> Result<Vec<(AccountId, InactivityLock)>, SettingsError> {
        let mut out = Vec::new();
        for (account, security) in self.store().retention_sources()? {
            if let Some(days) = SecurityPolicy::from_stored(security)?.inactivity_lock_days {
                out.push((account, days));
            }
        }
        Ok(out)
    }
}
