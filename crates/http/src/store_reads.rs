//! The threads that run the request path's store reads (decision 0015 §14).
//!
//! On SQLite a read is CPU work in this process: the query runs on the calling thread against
//! pages in memory. Run on actix's blocking pool — four threads per worker, sized for calls
//! that wait (a write queued behind another, a PostgreSQL round trip) — eight threads took turns
//! on two cores, each read finished later than its turn, and every idle thread had to be woken
//! again for the next one. Here as many threads as cores take reads in arrival order from one
//! queue that, under load, is never empty, so they rarely sleep. Measured on the member list at
//! 64 connections: 15–25 % more requests per second and p99 22 → 16 ms. On PostgreSQL a read is
//! mostly a wait for the server, so the pool gets as many threads as the database has
//! connections, as the blocking pool does.
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
