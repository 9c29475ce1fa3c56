//! The port through which `/readyz` and `/metrics` ask the database how it is: the adapter knows
//! services and ports, never the store itself (the binary implements this for it).

use crate::ScrapeGauges;

/// The database as the health and metrics routes see it.
pub trait Readiness: Send + Sync {
    /// The backend's name as `/readyz` reports it (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// `Ok` when the database answers; otherwise why not, fit to show the operator.
    fn check_ready(&self) -> Result<(), String>;
    /// The gauges read from the database at scrape time (outbox depth, delivery attempts, pool);
    /// `key_activity_dropped` is the adapter's own and left at 0.
    fn gauges(&self) -> Result<ScrapeGauges, String>;
}
