//! The audit retention purge: each account's audit entries older than its retention are
//! deleted, in bounded batches so a large backlog never holds a long write lock. How long an
//! account keeps its audit log is its security policy's (the settings context keeps it and the
//! binary bridges it in through [`AuditRetentionPolicy`]); deleting is this context's, which
//! owns the audit log.

use std::sync::Arc;

use chrono::Duration;
use tenantry_kernel::Clock;

use crate::ports::{AuditPurgeStore, AuditRetentionPolicy};
use crate::SecurityError;

/// Rows deleted per statement: bounds how long one purge holds the write lock.
pub const PURGE_BATCH: u32 = 1000;

/// Deletes audit entries past their account's retention (the maintenance job's purge).
pub struct AuditRetention {
    policy: Arc<dyn AuditRetentionPolicy>,
    store: Arc<dyn AuditPurgeStore>,
    clock: Arc<dyn Clock>,
}

impl AuditRetention {
    /// The purge of `store`'s audit log under `policy`'s retention, as of `clock`'s now.
    pub fn new(
        policy: Arc<dyn AuditRetentionPolicy>,
        store: Arc<dyn AuditPurgeStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            policy,
            store,
            clock,
        }
    }

    /// Deletes every audit entry strictly older than its account's retention, as of the
    /// clock's now. Safe to run on several instances at once (deletes are idempotent).
    /// Returns how many entries were deleted; errors only with the store's or the policy's
    /// [`SecurityError::Port`].
    pub fn purge_expired_audit(&self) -> Result<u64, SecurityError> {
        let now = self.clock.now();
        let mut total = 0u64;
        for (account, days) in self.policy.audit_retention_days()? {
            let cutoff = now - Duration::days(i64::from(days.get()));
            loop {
                let deleted = self
                    .store
                    .purge_audit_before(account, cutoff, PURGE_BATCH)?;
                total += deleted;
                if deleted < u64::from(PURGE_BATCH) {
                    break;
                }
            }
        }
        Ok(total)
    }
}
