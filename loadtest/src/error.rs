//! The errors of the load-test tool: `LoadError` for what stops a run before or after it
//! (bad settings, a non-loopback target, unreadable files, unwritable reports) and
//! `RequestError` for what can go wrong with one request while it runs, which is counted by
//! kind rather than stopping anything.

use std::path::PathBuf;

use serde::Serialize;

/// Why a run could not start or its results could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target is not an `http://` or `https://` URL this tool can use.
    #[error("target {url:?} is not usable: {reason}")]
    InvalidTarget { url: String, reason: String },
    /// The target names a host that is not a loopback address; load is never aimed elsewhere.
    #[error("target host {host:?} is not a loopback address (127.0.0.0/8, ::1 or localhost)")]
    NotLoopback { host: String },
    /// A setting is out of its allowed range or contradicts another one.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// A file named on the command line could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    /// The token file is unusable; the message names a line, never a token.
    #[error("token file {path}: {reason}")]
    Tokens { path: PathBuf, reason: String },
    /// The TLS client could not be configured from the given files.
    #[error("TLS setup failed ({what}): {source}")]
    Tls { what: &'static str, source: openssl::error::ErrorStack },
    /// The async runtime could not be started.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// A should-not-happen failure inside the tool itself.
    #[error("internal error: {0}")]
    Internal(String),
    /// A results file could not be written.
    #[error("cannot write {path}: {reason}")]
    WriteReport { path: PathBuf, reason: String },
}

/// What went wrong with one request; counted per kind in the report.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct RequestError {
    pub kind: ErrorKind,
    pub detail: String,
    /// The connection failed before any byte of a response arrived: on a kept-alive
    /// connection that usually means the server had closed it while idle.
    pub(crate) before_response: bool,
}

/// The classes of per-request failure, as they appear in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The TCP connection could not be opened.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// No complete response within the request timeout.
    Timeout,
    /// The server closed the connection before a complete response.
    Closed,
    /// A read or write on the connection failed.
    Io,
    /// The response was not valid HTTP/1.1.
    Malformed,
}

// === impl RequestError ===

impl RequestError {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self { kind, detail: detail.into(), before_response: false }
    }

    /// A failure before any response byte arrived (see `before_response`).
    pub(crate) fn before_response(mut self) -> Self {
        self.before_response = true;
        self
    }

    /// An I/O failure; one raised by TLS (with TLS 1.3 a refused client certificate only
    /// shows on the first read, as an alert) counts as a TLS failure.
    pub(crate) fn io(err: &std::io::Error) -> Self {
        let tls = err.get_ref().is_some_and(|inner| inner.is::<openssl::ssl::Error>());
        Self::new(if tls { ErrorKind::Tls } else { ErrorKind::Io }, err.to_string())
    }
}

// === impl ErrorKind ===

impl ErrorKind {
    /// The name used in reports and the progress line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Closed => "closed",
            Self::Io => "io",
            Self::Malformed => "malformed",
        }
    }
}
