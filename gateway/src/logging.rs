//! Process logs: `tracing` to stderr, human-readable on a terminal or JSON, filtered by
//! `SKYBRIDGE_LOG` (EnvFilter syntax, default `info`). Stdout is left to the audit trail's
//! embedded default sink.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Used when `SKYBRIDGE_LOG` is unset: actix's own start-up chatter is kept to warnings, and
/// actix-http's per-connection parse errors (it logs every malformed request from a caller at
/// ERROR, which would let any caller flood the log) are left out; those requests are refused
/// with 400 by actix-http before they reach Skybridge.
const DEFAULT_FILTER: &str = "info,actix_server=warn,actix_http::h1::dispatcher=off";

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable, with colours on a terminal.
    Human,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber; call once, first thing.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("SKYBRIDGE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}
