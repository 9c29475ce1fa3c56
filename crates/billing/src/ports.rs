//! What billing needs from the outside: where usage and the billing settings are kept.

use tenantry_kernel::{AccountId, PortError};

use crate::{BillingSettings, UsageBatch, UsageOutcome};

/// Where usage is kept, and the billing settings it is checked against.
pub trait UsageStore: Send + Sync {
    /// The account's stored billing settings, `Ok(None)` when the account never wrote them
    /// (the defaults apply). Returns [`PortError::Corrupt`] when the stored settings do not
    /// read back, and the store's own [`PortError`] when it cannot answer.
    fn billing_settings(&self, account: AccountId) -> Result<Option<BillingSettings>, PortError>;

    /// Records a report in one transaction: inserts the records whose id is new (counting the
    /// others as duplicates), evaluates every check against its period's total (records of
    /// earlier reports included), keeps each first firing per (check, period) with its audit
    /// entry (which emits the event), and applies the recharge rule to the newest reported
    /// balance: a recharge is requested when it falls below the threshold from at or above
    /// it. Nothing is written when it fails; returns [`PortError::Busy`] when the store is
    /// saturated and the store's other [`PortError`]s when it cannot write.
    fn record_usage(&self, batch: &UsageBatch<'_>) -> Result<UsageOutcome, PortError>;
}
