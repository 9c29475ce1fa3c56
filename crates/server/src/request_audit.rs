//! The request-audit writer: drains the queue the HTTP middleware fills (one record per
//! authenticated request) and writes `api.request` audit entries in batches, for the accounts
//! whose `security.audit.log_api_requests` is on. Runs on a thread of its own, so requests never
//! wait for it; ends when the server has stopped and the queue is empty (nothing accepted is
//! lost on a graceful shutdown; a SIGKILL loses at most the queue).

use std::collections::HashMap;
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
        // One policy read per (account, user) and batch; the settings snapshot is cached anyway.
        let mut wanted = HashMap::new();
        let kept: Vec<ApiRequestRecord> = batch
            .into_iter()
            .filter(|r| {
                *wanted.entry((r.account, r.user)).or_insert_with(|| {
                    self.settings
                        .logs_api_requests(r.account, r.user)
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
        let ids: Vec<AuditId> = kept
            .iter()
            .map(|_| AuditId::generate(self.clock.as_ref(), self.random.as_ref()))
            .collect();
        if let Err(e) = self.store.insert_api_requests(&kept, &ids) {
            tracing::warn!(error = %e, records = kept.len(), "request audit: batch not written");
        }
    }
}
