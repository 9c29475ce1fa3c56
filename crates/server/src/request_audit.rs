//! The request-audit writer: drains the queue the HTTP middleware fills (one record per
//! authenticated request) and writes `api.request` audit entries in batches, for the accounts
//! whose `security.audit.log_api_requests` is on. Runs on a thread of its own, so requests never
//! wait for it; ends when the server has stopped and the queue is empty (nothing accepted is
//! lost on a graceful shutdown; a SIGKILL loses at most the queue).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use tenantry_kernel::{AuditId, Clock, RandomSource};
use tenantry_security::ApiRequestRecord;
use tenantry_settings::SettingsService;
use tenantry_store::Store;

/// A batch is written when it has this many records or is this old, whichever comes first.
const BATCH: usize = 1_000;
const FLUSH_AFTER: Duration = Duration::from_millis(250);

pub struct Writer {
    pub store: Store,
    pub settings: Arc<SettingsService>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn RandomSource>,
}

impl Writer {
    pub fn spawn(
        self,
        records: Receiver<ApiRequestRecord>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        crate::batches::spawn("request-audit", records, BATCH, FLUSH_AFTER, move |batch| {
            self.write(batch)
        })
    }

    fn write(&self, batch: Vec<ApiRequestRecord>) {
        // One policy read per account and batch; the policy is cached anyway.
        let mut wanted = HashMap::new();
        let kept: Vec<ApiRequestRecord> = batch
            .into_iter()
            .filter(|r| {
                *wanted.entry(r.account).or_insert_with(|| {
                    self.settings
                        .logs_api_requests(r.account)
                        .unwrap_or_else(|e| {
                            // Keeping the record is the safe side of an unreadable policy.
                            tracing::warn!(error = %e, account = %r.account, "request audit: policy unreadable");
                            true
                        })
                })
            })
            .collect();
        if kept.is_empty() {
            return;
        }
        let random = Prefilled::new(self.random.as_ref(), kept.len());
        let ids: Vec<AuditId> = kept
            .iter()
            .map(|_| AuditId::generate(self.clock.as_ref(), &random))
            .collect();
        if let Err(e) = self.store.insert_api_requests(&kept, &ids) {
            tracing::warn!(error = %e, records = kept.len(), "request audit: batch not written");
        }
    }
}

/// A batch's random bytes drawn from the source in one call: one `getrandom` system call for a
/// thousand ids instead of one per id (6 % of this writer's time under load). The bytes are the
/// source's own; what is asked for beyond them comes from the source directly.
struct Prefilled<'a> {
    source: &'a dyn RandomSource,
    bytes: Vec<u8>,
    /// How many of `bytes` are handed out (atomic only because the trait wants `Sync`).
    taken: AtomicUsize,
}

impl<'a> Prefilled<'a> {
    /// Enough bytes for `ids` ids (16 each: `RandomSource::u128`).
    fn new(source: &'a dyn RandomSource, ids: usize) -> Self {
        let mut bytes = vec![0; ids * 16];
        source.fill(&mut bytes);
        Self {
            source,
            bytes,
            taken: AtomicUsize::new(0),
        }
    }
}

impl RandomSource for Prefilled<'_> {
    fn fill(&self, buf: &mut [u8]) {
        let from = self.taken.fetch_add(buf.len(), Ordering::Relaxed);
        match self.bytes.get(from..from + buf.len()) {
            Some(ours) => buf.copy_from_slice(ours),
            None => self.source.fill(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Counts its calls and hands out 1, 2, 3, ...
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
        next: Mutex<u8>,
    }

    impl RandomSource for Counting {
        fn fill(&self, buf: &mut [u8]) {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut next = self.next.lock().unwrap();
            for b in buf {
                *next = next.wrapping_add(1);
                *b = *next;
            }
        }
    }

    #[test]
    fn a_batch_of_ids_takes_one_call_and_no_two_share_bytes() {
        let source = Counting::default();
        let random = Prefilled::new(&source, 3);
        let values: Vec<u128> = (0..3).map(|_| random.u128()).collect();
        assert_eq!(source.calls.load(Ordering::Relaxed), 1);
        assert_eq!(values[0].to_le_bytes()[0], 1);
        assert_eq!(values[1].to_le_bytes()[0], 17);
        assert_eq!(values[2].to_le_bytes()[15], 48);
        // Past what was drawn, the source is asked again.
        let fourth = random.u128();
        assert_eq!(source.calls.load(Ordering::Relaxed), 2);
        assert_eq!(fourth.to_le_bytes()[0], 49);
    }
}
