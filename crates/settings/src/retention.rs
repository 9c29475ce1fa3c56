//! The retention purge: audit entries older than each account's `audit_retention_days` are
//! deleted, in bounded batches so a large backlog never holds a long write lock.

use chrono::Duration;

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

    /// Seed 04's `inactivityUserLockThreshold`: members inactive for that many days are
    /// suspended (audited). Returns how many were suspended.
    pub fn suspend_inactive_members(&self) -> Result<u64, SettingsError> {
        let now = self.clock().now();
        let mut total = 0u64;
        for (account, security) in self.store().retention_sources()? {
            let policy = SecurityPolicy::from_stored(security)?;
            if let Some(days) = policy.inactivity_lock_days {
                let cutoff = now - Duration::days(i64::from(days));
                total += self
                    .store()
                    .suspend_inactive_members(account, cutoff, now)?
                    .len() as u64;
            }
        }
        Ok(total)
    }
}
