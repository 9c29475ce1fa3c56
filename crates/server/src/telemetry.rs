use tracing_subscriber::fmt::MakeWriter;
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
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
