//! The key-activity writer: stores the API key uses the authenticator queues (at most one per
//! key and minute) in batches, so no request waits for that write. Ends once the authenticator's
//! queue is closed (after the server stopped) and drained.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use tenantry_security::{CredentialStore, KeyUse};

/// Uses queued at most (one per key and minute: this many distinct keys in a burst).
pub const QUEUE_CAPACITY: usize = 10_000;
const BATCH: usize = 500;
const FLUSH_AFTER: Duration = Duration::from_millis(250);

pub fn spawn(
    store: Arc<dyn CredentialStore>,
    uses: Receiver<KeyUse>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    crate::batches::spawn("key-activity", uses, BATCH, FLUSH_AFTER, move |batch| {
        let batch = tenantry_security::latest_per_key(batch);
        if let Err(e) = store.record_key_uses(&batch) {
            // Activity is informational (inactivity policies are day-granular): a lost batch
            // is logged, and each key is queued again at its next use a minute later.
            tracing::warn!(error = %e, uses = batch.len(), "key activity: batch not written");
        }
    })
}
