//! The loop the background writers share (request audit, key activity): every `flush_after`,
//! take what a bounded queue holds, in batches of at most `max` items, until every sender is
//! gone and the queue is empty.
//!
//! The writer polls rather than blocking on the queue, so a sender never has to wake it and
//! queueing stays a few atomic operations on the request path; the price is up to `flush_after`
//! of delay, which these writers had anyway (docs/decisions/0015-request-path-without-blocking-hops.md,
//! §4, has the measurement).

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

/// Spawns a named thread that hands each batch from `items` to `write`.
pub fn spawn<T: Send + 'static>(
    name: &str,
    items: Receiver<T>,
    max: usize,
    flush_after: Duration,
    mut write: impl FnMut(Vec<T>) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || loop {
            std::thread::sleep(flush_after);
            let mut batch = Vec::new();
            loop {
                match items.try_recv() {
                    Ok(item) => {
                        batch.push(item);
                        if batch.len() == max {
                            write(std::mem::take(&mut batch));
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    // Every sender is gone and nothing is left but this batch.
                    Err(TryRecvError::Disconnected) => {
                        if !batch.is_empty() {
                            write(batch);
                        }
                        return;
                    }
                }
            }
            if !batch.is_empty() {
                write(batch);
            }
        })
}
