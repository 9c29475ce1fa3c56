//! Password hashing (Argon2id: sign-in, password change, MFA disable, invitation acceptance)
//! runs on a small pool of its own threads, `HttpConfig::password_workers` of them.
//!
//! Not the blocking pool every other store call uses: a verification takes tens of milliseconds
//! of CPU and 19 MiB of memory, and a thread that ever hashed keeps that memory in its malloc
//! arena. Here at most `password_workers` hash at once, cheap requests keep the other cores, and
//! only these threads hold hash memory: one working area each, kept for the thread's life
//! (`keep_hash_memory_on_this_thread`). The measurements are in
//! docs/decisions/0013-password-hashing-pool.md.
//! Requests queue (bounded); a full queue is answered 503 `SERVICE_BUSY` with `Retry-After`.

use std::sync::Arc;

use crate::error::{ApiError, Dialect};
use crate::work_pool::WorkPool;
use crate::AppState;

/// Waiting requests per hashing thread before new ones are turned away (each waits at most
/// this many hashes, ~2-5 s).
const QUEUE_PER_THREAD: usize = 64;

/// The hashing threads.
pub struct PasswordPool(Arc<WorkPool>);

impl PasswordPool {
    /// Starts `threads` hashing threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<Arc<Self>> {
        // Each thread hashes and little else: one 19 MiB working area for all its hashes,
        // instead of one per hash that malloc then holds on to several times over
        // (password.rs).
        let pool = WorkPool::start(
            "password-hash",
            threads,
            QUEUE_PER_THREAD,
            tenantry_security::keep_hash_memory_on_this_thread,
        )?;
        Ok(Arc::new(Self(pool)))
    }

    /// Runs `f` on the hashing threads, for an adapter beside this one (the console) that
    /// renders its own refusal: the same bounded pool, so a burst of console sign-ins queues
    /// with the API's.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, crate::work_pool::Refused> {
        self.0.submit(f).await
    }
}

/// Runs `f` on the hashing pool and waits (asynchronously) for its result.
pub(crate) async fn run<R: Send + 'static>(
    state: &AppState,
    dialect: Dialect,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    state.password_pool.0.run(dialect, f).await
}
