//! The threads that run the request path's store reads.
//!
//! On SQLite a read is CPU work in this process, so as many threads as cores take reads in
//! arrival order from one queue (more threads than cores only take turns and must be woken
//! again); on PostgreSQL a read is mostly a wait for the server, so the pool gets as many threads
//! as the database has connections. The measurements behind this are in
//! docs/decisions/0015-request-path-without-blocking-hops.md (§14).
//!
//! Only reads come here: a write may wait for SQLite's writer lock, and a thread waiting there
//! would hold up every read queued behind it.

use std::sync::Arc;

use crate::error::{ApiError, Dialect};
use crate::work_pool::WorkPool;
use crate::AppState;

/// Reads waiting per thread before new ones are answered 503: far more than the connections a
/// worker serves at once, so only an overload meets it.
const QUEUE_PER_THREAD: usize = 256;

/// The read threads.
pub struct ReadPool(Arc<WorkPool>);

impl ReadPool {
    /// Starts `threads` read threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Self(WorkPool::start(
            "store-read",
            threads,
            QUEUE_PER_THREAD,
            || {},
        )?)))
    }
}

/// Runs the read-only store call `f` on the read threads and waits (asynchronously) for its
/// result.
pub(crate) async fn run<R: Send + 'static>(
    state: &AppState,
    dialect: Dialect,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    state.read_pool.0.run(dialect, f).await
}
