use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Logs go to stderr so stdout carries only what operators and scripts read (the first-start
/// keys and the listening address). `RUST_LOG` overrides the default `info` level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or collector gets plain text
        // (escape codes there are noise, and formatting them cost ~2 % of a cached read).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests calling twice) is harmless, so the error is ignored.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
