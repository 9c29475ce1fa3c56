//! The background thread that drains the outbox: delivers what is due, then waits a poll
//! interval when there was nothing to do. A plain thread (the transports block), stopped
//! cleanly at shutdown; a crash is covered by the outbox's leases, not by this loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tenantry_notifications::OutboxWorker;

/// Messages claimed per pass (bounded so instances share a backlog; see the constant).
const BATCH: u32 = tenantry_notifications::CLAIM_BATCH;

pub struct OutboxRunner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OutboxRunner {
    /// `tick` runs before every pass (the digests due by now are queued there).
    pub fn start(
        worker: OutboxWorker,
        poll: Duration,
        tick: Box<dyn Fn() + Send + 'static>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("outbox".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    tick();
                    let busy = match worker.run_once(BATCH) {
                        Ok(report) => {
                            if report.handled() > 0 {
                                tracing::info!(
                                    delivered = report.delivered,
                                    retried = report.retried,
                                    abandoned = report.abandoned,
                                    cancelled = report.cancelled,
                                    "outbox pass"
                                );
                            }
                            report.handled() == BATCH
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox pass failed; retrying");
                            false
                        }
                    };
                    if !busy {
                        sleep_unless_stopped(&flag, poll);
                    }
                }
            })
            .ok();
        if thread.is_none() {
            tracing::error!("could not start the outbox thread; emails will wait for a restart");
        }
        Self { stop, thread }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sleeps `total` in short steps so a stop request is honoured quickly.
fn sleep_unless_stopped(flag: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < total && !flag.load(Ordering::Relaxed) {
        std::thread::sleep(step.min(total - slept));
        slept += step;
    }
}
