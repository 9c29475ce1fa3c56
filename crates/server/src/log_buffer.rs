//! The server's log output: lines gather in memory and reach stderr in one `write` every
//! [`FLUSH_INTERVAL`], instead of one `write` per line under stderr's lock.
//!
//! With an access line per request, the per-line system call was the largest cost left on a
//! cached read (decision 0015 §8). What the buffer trades for it:
//! - a line reaches stderr up to [`FLUSH_INTERVAL`] late;
//! - a process killed outright (SIGKILL, the OOM killer) loses at most that interval of lines.
//!   A panic flushes first (the hook installed by [`LogBuffer::install`]), a graceful stop
//!   flushes last, and warnings and errors are written through at once, after whatever was
//!   buffered before them, so the lines that explain a failure are never the ones held back;
//! - order is kept: every write to stderr takes the whole buffer under one lock.
//!
//! Memory is bounded: a buffer over [`WRITE_THROUGH_ABOVE`] is written by the thread that filled
//! it, which is the back-pressure a slow stderr applied before.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How late a buffered line may reach stderr.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// A buffer this large is written at once rather than waiting for the interval.
const WRITE_THROUGH_ABOVE: usize = 256 * 1024;

/// Capacity kept between flushes; a burst's larger allocation is given back.
const KEEP_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
pub struct LogBuffer {
    /// Lines not yet written.
    pending: Mutex<Vec<u8>>,
    /// Held while writing to stderr, so two flushes never interleave or reorder; holds the
    /// spare buffer that `pending` is swapped with.
    output: Mutex<Vec<u8>>,
    stopped: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding either lock leaves bytes, never a broken invariant.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LogBuffer {
    /// A buffer with its flushing thread and a panic hook that flushes it before the panic
    /// message is printed. The returned guard stops the thread and flushes when dropped.
    pub fn install() -> std::io::Result<(Arc<Self>, Flusher)> {
        let buffer = Arc::new(Self::default());
        let flushing = buffer.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                while !flushing.stopped.load(Ordering::Acquire) {
                    std::thread::sleep(FLUSH_INTERVAL);
                    flushing.flush();
                }
            })?;
        let on_panic = buffer.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            on_panic.flush();
            previous(info);
        }));
        Ok((
            buffer.clone(),
            Flusher {
                buffer,
                thread: Some(thread),
            },
        ))
    }

    fn append(&self, bytes: &[u8]) -> usize {
        let mut pending = lock(&self.pending);
        pending.extend_from_slice(bytes);
        pending.len()
    }

    /// Writes everything buffered so far to stderr.
    pub fn flush(&self) {
        self.flush_to(&mut std::io::stderr());
    }

    fn flush_to(&self, out: &mut impl Write) {
        let mut spare = lock(&self.output);
        {
            let mut pending = lock(&self.pending);
            if pending.is_empty() {
                return;
            }
            std::mem::swap(&mut *pending, &mut *spare);
        }
        // Nowhere to report a failed log write; the lines are dropped as an unbuffered write's
        // would be.
        let _ = out.write_all(&spare);
        spare.clear();
        spare.shrink_to(KEEP_CAPACITY);
    }
}

/// Stops the flushing thread and writes what is left when dropped (end of `serve`).
pub struct Flusher {
    buffer: Arc<LogBuffer>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.buffer.stopped.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.buffer.flush();
    }
}

/// The `MakeWriter` handed to the fmt subscriber: one [`Line`] per event.
#[derive(Clone)]
pub struct BufferedStderr(pub Arc<LogBuffer>);

/// One event's bytes on their way into the buffer.
pub struct Line<'a> {
    buffer: &'a LogBuffer,
    /// Warnings and errors: written through when the event is complete.
    urgent: bool,
    full: bool,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.full |= self.buffer.append(bytes) > WRITE_THROUGH_ABOVE;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.urgent || self.full {
            self.buffer.flush();
        }
    }
}

/// Warnings and errors are not held back.
fn urgent(level: &Level) -> bool {
    // tracing orders levels by verbosity: ERROR < WARN < INFO.
    *level <= Level::WARN
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            buffer: &self.0,
            urgent: false,
            full: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        Line {
            buffer: &self.0,
            urgent: urgent(meta.level()),
            full: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_a_flush_and_keep_their_order() {
        let buffer = LogBuffer::default();
        let mut out = Vec::new();
        for i in 0..3 {
            let mut line = Line {
                buffer: &buffer,
                urgent: false,
                full: false,
            };
            writeln!(line, "line {i}").unwrap();
        }
        assert!(out.is_empty());
        buffer.flush_to(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "line 0\nline 1\nline 2\n");
        let mut again = Vec::new();
        buffer.flush_to(&mut again);
        assert!(
            again.is_empty(),
            "a flush takes what it wrote out of the buffer"
        );
    }

    #[test]
    fn a_full_buffer_is_marked_for_writing_through() {
        let buffer = LogBuffer::default();
        let mut line = Line {
            buffer: &buffer,
            urgent: false,
            full: false,
        };
        line.write_all(&vec![b'x'; WRITE_THROUGH_ABOVE]).unwrap();
        assert!(!line.full);
        line.write_all(b"y").unwrap();
        assert!(line.full);
        std::mem::forget(line);
    }

    #[test]
    fn warnings_and_errors_are_written_through() {
        assert!(urgent(&Level::ERROR));
        assert!(urgent(&Level::WARN));
        assert!(!urgent(&Level::INFO));
        assert!(!urgent(&Level::DEBUG));
    }
}
