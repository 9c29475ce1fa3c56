//! Logging: structured lines on stderr, client faults rate-limited, protocol noise from the HTTP
//! server kept out.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::log_buffer::{BufferedStderr, Flusher, LogBuffer};

/// Logs go to stderr so stdout carries only what operators and scripts read (the first-start
/// keys and the listening address). `RUST_LOG` overrides the default `info` level. One line is
/// one `write`: right for the short-lived commands.
pub fn init(format: LogFormat) {
    init_with(format, std::io::stderr);
}

/// Logs of `serve`: the same lines, written through the log buffer (log_buffer.rs). Keep the
/// guard until the server has stopped: dropping it writes the last lines.
pub fn init_buffered(format: LogFormat) -> std::io::Result<Flusher> {
    let (buffer, flusher) = LogBuffer::install()?;
    init_with(format, BufferedStderr(buffer));
    Ok(flusher)
}

fn init_with<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colours only for a person at a terminal: a log file or collector gets plain text
        // (escape codes there are noise, and formatting them cost ~2 % of a cached read).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests calling twice) is harmless, so the error is ignored.
    let _ = match format {
        LogFormat::Pretty => builder.finish().with(ClientFaults::default()).try_init(),
        LogFormat::Json => builder
            .json()
            .finish()
            .with(ClientFaults::default())
            .try_init(),
    };
}

/// How often a line about clients' malformed requests may be written.
const CLIENT_FAULT_INTERVAL: Duration = Duration::from_secs(1);

/// Where the lines about clients' malformed requests come from.
const CLIENT_FAULT_TARGET: &str = "tenantry::client_faults";

/// actix-http logs at ERROR every connection it closes because of what the client sent: a
/// request head it cannot parse (more than 96 headers, a malformed request line, `Content-Length`
/// with `Transfer-Encoding`), a connection the client broke. Those are no fault of the server,
/// and an attacker could write as many ERROR lines as it sends requests, burying the real ones
/// and tripping alerts. This layer drops them and writes instead, at most once per
/// [`CLIENT_FAULT_INTERVAL`], one WARN line with the latest cause and the number of such events
/// not written since the previous line. Everything else actix logs is untouched.
#[derive(Default)]
struct ClientFaults {
    limiter: Mutex<Limiter>,
}

/// Whether an actix event is a client's fault (see [`ClientFaults`]), from its target and text.
fn is_client_fault(target: &str, message: &str) -> bool {
    match target {
        // `stream error: ...`: the connection ended on a parse error, a client I/O error or a
        // timeout; `write zero`: the client stopped reading.
        "actix_http::h1::dispatcher" => {
            message.starts_with("stream error") || message.starts_with("write zero")
        }
        // A client that sends more than the decoder buffers.
        "actix_http::h1::decoder" => true,
        _ => false,
    }
}

/// The text of an event's `message` field.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for ClientFaults {
    /// Returning `false` disables the event for every layer, the formatter included.
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let meta = event.metadata();
        if *meta.level() > Level::WARN || !meta.target().starts_with("actix_http::h1") {
            return true;
        }
        let mut message = Message::default();
        event.record(&mut message);
        if !is_client_fault(meta.target(), &message.0) {
            return true;
        }
        let admitted = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(Instant::now());
        // Written after the lock is released: the line goes through this layer again.
        if let Some(suppressed) = admitted {
            tracing::warn!(
                target: CLIENT_FAULT_TARGET,
                suppressed,
                "closed a connection over the client's request: {}",
                message.0
            );
        }
        false
    }
}

/// At most one line per [`CLIENT_FAULT_INTERVAL`], counting the events it held back.
#[derive(Debug, Default)]
struct Limiter {
    last_line: Option<Instant>,
    suppressed: u64,
}

impl Limiter {
    /// `Some(events held back since the previous line)` when a line may be written at `now`.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        match self.last_line {
            Some(last) if now.saturating_duration_since(last) < CLIENT_FAULT_INTERVAL => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last_line = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn actix_client_faults_are_recognised_by_target_and_text() {
        let dispatcher = "actix_http::h1::dispatcher";
        assert!(is_client_fault(
            dispatcher,
            "stream error: request parse error: invalid Header provided"
        ));
        assert!(is_client_fault(dispatcher, "write zero; closing"));
        assert!(is_client_fault(
            "actix_http::h1::decoder",
            "MAX_BUFFER_SIZE unprocessed data reached, closing"
        ));
        // The server's own failures stay errors.
        assert!(!is_client_fault(
            dispatcher,
            "Response payload stream error: Custom(..)"
        ));
        assert!(!is_client_fault(
            "actix_server::accept",
            "stream error: too many open files"
        ));
    }

    #[test]
    fn the_first_fault_is_written_and_the_next_second_counts_the_rest() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        assert_eq!(limiter.admit(t0), Some(0));
        for ms in [1, 500, 999] {
            assert_eq!(limiter.admit(t0 + Duration::from_millis(ms)), None);
        }
        assert_eq!(limiter.admit(t0 + Duration::from_millis(1000)), Some(3));
        assert_eq!(limiter.admit(t0 + Duration::from_millis(1001)), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// For any arrival times: lines are at least an interval apart, and every event is
        /// either a line or counted by exactly one later line (or still held back).
        #[test]
        fn lines_are_an_interval_apart_and_count_every_event(
            gaps in proptest::collection::vec(0u64..2_500, 1..300)
        ) {
            let mut limiter = Limiter::default();
            let start = Instant::now();
            let mut at = start;
            let mut lines: Vec<Instant> = Vec::new();
            let mut counted = 0u64;
            for gap in &gaps {
                at += Duration::from_millis(*gap);
                if let Some(suppressed) = limiter.admit(at) {
                    if let Some(previous) = lines.last() {
                        prop_assert!(at.duration_since(*previous) >= CLIENT_FAULT_INTERVAL);
                    }
                    lines.push(at);
                    counted += 1 + suppressed;
                }
            }
            prop_assert_eq!(counted + limiter.suppressed, gaps.len() as u64);
            let span = at.duration_since(start).as_millis() as usize;
            prop_assert!(lines.len() <= 1 + span / 1000);
        }
    }
}
