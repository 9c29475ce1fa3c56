//! What billing's use cases refuse or fail with.

use tenantry_kernel::{PortError, Role};

/// Every failure of a billing use case.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The caller's role is below what the use case needs (billing belongs to admins and
    /// owners).
    #[error("billing requires the {required} role (the caller is {current})")]
    Forbidden {
        /// The least role allowed.
        required: Role,
        /// The caller's role.
        current: Role,
    },
    /// A usage report was refused before anything was written; the message names the first
    /// record at fault (`records[3].cost must be 0-1000000000`).
    #[error("invalid usage records: {0}")]
    InvalidRecords(String),
    /// A port failed (see [`crate::UsageStore`]).
    #[error(transparent)]
    Port(#[from] PortError),
}
