//! The retention purge: audit entries older than each account's `audit_retention_days` are
//! deleted, in bounded batches so a large backlog never holds a long write lock; and each
//! account's inactivity threshold, which the team context enforces.

use chrono::Duration;
use tenantry_kernel::AccountId;

use crate::{SecurityPolicy, SettingsError, SettingsService};

/// Rows deleted per statement.
pub const PURGE_BATCH: u32 = 1000;

impl SettingsService {
    /// Deletes every audit entry older than its account's retention, as of the clock's now.
    /// Safe to run on several instances at once (deletes are idempotent). Returns the count.
    pub fn purge_expired_audit(&self) -> Result<u64, SettingsError> {
        let now = self.clock().now();
        let mut total = 0u64;
        for (account, security) in self.store().retention_sources()? {
            let policy = SecurityPolicy::from_stored(security)?;
            let cutoff = now - Duration::days(i64::from(policy.audit_retention_days));
            loop {
                let deleted = self
                    .store()
                    .purge_audit_before(account, cutoff, PURGE_BATCH)?;
                total += deleted;
                if deleted < u64::from(PURGE_BATCH) {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Each account's `inactivityUserLockThreshold` in days, for the accounts that set one: the
    /// team context suspends members inactive that long (the binary's maintenance job joins
    /// the two).
    pub fn inactivity_thresholds(&self) -> Result<Vec<(AccountId, u32)>, SettingsError> {
        let mut out = Vec::new();
        for (account, security) in self.store().retention_sources()? {
            if let Some(days) = SecurityPolicy::from_stored(security)?.inactivity_lock_days {
                out.push((account, days));
            }
        }
        Ok(out)
    }
}
