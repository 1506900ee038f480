//! Errors of the audit trail's sinks.

use std::path::PathBuf;

/// Why the audit sink could not start or write.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// `telemetry.otlp_endpoint` is not a usable `http(s)://host[:port][/path]` URL.
    #[error("telemetry.otlp_endpoint is not a usable OTLP/HTTP URL: {reason}")]
    Endpoint {
        /// What is wrong, without the URL's credentials.
        reason: String,
    },
    /// The spool directory or one of its files could not be used.
    #[error("audit spool {path}: {source}")]
    Spool {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The audit file could not be opened or written.
    #[error("audit file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A background thread could not be started.
    #[error("cannot start the audit {thread} thread: {source}")]
    Thread {
        /// Which thread.
        thread: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}
