//! Threads of their own for one kind of work, with a bounded queue in front of them: password
//! hashing (`password_work.rs`) and bounded store reads (`store_reads.rs`). A full queue is
//! answered 503 `SERVICE_BUSY` with `Retry-After` rather than letting waits grow without bound.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use crate::error::{ApiError, Dialect};

type Job = Box<dyn FnOnce() + Send>;

/// Why a job gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: answer 503 with `Retry-After`.
    Busy,
    /// The job panicked: answer 500.
    Lost,
}

pub struct WorkPool {
    queue: SyncSender<Job>,
}

impl WorkPool {
    /// Starts `threads` threads (at least one) named `{name}-{n}`, each running `on_start`
    /// first; up to `queue_per_thread` jobs per thread wait for one.
    pub(crate) fn start(
        name: &str,
        threads: usize,
        queue_per_thread: usize,
        on_start: fn(),
    ) -> std::io::Result<Arc<Self>> {
        let threads = threads.max(1);
        let (queue, jobs) = sync_channel::<Job>(threads * queue_per_thread);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    on_start();
                    work(&jobs);
                })?;
        }
        Ok(Arc::new(Self { queue }))
    }

    /// Runs `f` on one of the pool's threads and waits (asynchronously) for its result.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        dialect: Dialect,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        match self.submit(f).await {
            Ok(r) => Ok(r),
            Err(Refused::Busy) => Err(ApiError::busy(dialect)),
            Err(Refused::Lost) => Err(ApiError::internal(
                dialect,
                &"a pooled task ended without a result",
            )),
        }
    }

    /// Runs `f` on the pool, for callers that render their own refusal (the console).
    pub(crate) async fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Refused> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .try_send(Box::new(move || {
                let _ = done.send(f());
            }))
            .map_err(|_| Refused::Busy)?;
        result.await.map_err(|_| Refused::Lost)
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job, never while running it.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            // A job that panics drops its result sender, so its request is answered 500; the
            // thread goes on serving the others (as actix's blocking pool does).
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
            // Every sender is gone: the server is shutting down.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WorkPool;
    use crate::error::Dialect;

    #[actix_web::test]
    async fn a_panicking_job_fails_its_request_and_the_thread_serves_the_next() {
        let pool = WorkPool::start("test-pool", 1, 4, || {}).unwrap();
        let failed = pool.run(Dialect::V2, || panic!("job fails")).await;
        assert_eq!(
            failed
                .err()
                .map(|e| actix_web::ResponseError::status_code(&e)),
            Some(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(pool.run(Dialect::V2, || 7).await.ok(), Some(7));
    }
}
