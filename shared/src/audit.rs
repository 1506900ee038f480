//! The audit record: one per request, whatever the outcome.
//!
//! The gateway fills one [`AuditRecord`] as the request moves through its steps and hands it
//! to the audit sink when the response is complete (or the client went away). The sink turns
//! it into an OpenTelemetry log record named [`AUDIT_EVENT_NAME`] whose attribute names are
//! the constants in [`attr`]. Nothing in a record may be a token, key, secret or query value.

use std::time::SystemTime;

/// Event name of the OpenTelemetry log record.
pub const AUDIT_EVENT_NAME: &str = "skybridge.audit";

/// Attribute names: OpenTelemetry semantic conventions where they exist, `skybridge.*` else.
pub mod attr {
    /// The request method.
    pub const METHOD: &str = "http.request.method";
    /// The normalised request path, without the query string.
    pub const PATH: &str = "url.path";
    /// The matched route's path prefix.
    pub const HTTP_ROUTE: &str = "http.route";
    /// The status Skybridge answered with.
    pub const STATUS: &str = "http.response.status_code";
    /// The caller's address.
    pub const CLIENT_ADDRESS: &str = "client.address";
    /// The caller's `User-Agent`.
    pub const USER_AGENT: &str = "user_agent.original";
    /// The request's `x-request-id`.
    pub const REQUEST_ID: &str = "skybridge.request_id";
    /// The matched route's name.
    pub const ROUTE: &str = "skybridge.route";
    /// The upstream's name.
    pub const UPSTREAM: &str = "skybridge.upstream";
    /// `allow` or `deny`.
    pub const DECISION: &str = "skybridge.decision";
    /// Why, from a closed set (see [`crate::problem::types`] slugs and auth reasons).
    pub const REASON: &str = "skybridge.reason";
    /// The verified token's `sub`.
    pub const SUBJECT: &str = "skybridge.subject";
    /// The verified token's `iss`.
    pub const ISSUER: &str = "skybridge.issuer";
    /// The verified token's client (`azp`, `appid` or `client_id`).
    pub const CLIENT_ID: &str = "skybridge.client_id";
    /// The verified token's tenant (`tid`).
    pub const TENANT: &str = "skybridge.tenant";
    /// The lowest remaining quota across the route's policies.
    pub const RATE_LIMIT_REMAINING: &str = "skybridge.rate_limit.remaining";
    /// The credential attached upstream (its name, never its token).
    pub const CREDENTIAL: &str = "skybridge.credential";
    /// The upstream's status.
    pub const UPSTREAM_STATUS: &str = "skybridge.upstream.status";
    /// Time from request arrival to response, in milliseconds.
    pub const DURATION_MS: &str = "skybridge.duration_ms";
    /// Time spent on the upstream call, in milliseconds.
    pub const UPSTREAM_DURATION_MS: &str = "skybridge.upstream.duration_ms";
}

/// Whether the request was let through to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Forwarded upstream (whatever the upstream then answered).
    Allow,
    /// Refused by Skybridge.
    Deny,
}

impl Decision {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// The upstream call of one request: the client span whose id went upstream in
/// `traceparent`, so the upstream's own spans hang below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamSpan {
    /// The client span's id (a child of the record's `span_id`).
    pub span_id: [u8; 8],
    /// When the request was sent upstream.
    pub started: SystemTime,
    /// Until the upstream's response head arrived, or the call failed.
    pub duration: std::time::Duration,
}

/// One request's audit record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// When the request arrived.
    pub timestamp: SystemTime,
    /// The server span's trace id.
    pub trace_id: [u8; 16],
    /// The server span's id.
    pub span_id: [u8; 8],
    /// W3C trace flags (bit 0: sampled).
    pub trace_flags: u8,
    /// The caller's span, when the caller sent a valid `traceparent`; the parent of the
    /// server span.
    pub parent_span_id: Option<[u8; 8]>,
    /// The upstream call, when one was made.
    pub upstream_span: Option<UpstreamSpan>,
    /// The request's `x-request-id`.
    pub request_id: String,
    /// The request method.
    pub method: String,
    /// The normalised path, never the query string.
    pub path: String,
    /// The matched route's path prefix.
    pub http_route: Option<String>,
    /// The matched route's name.
    pub route: Option<String>,
    /// The upstream's name.
    pub upstream: Option<String>,
    /// The status sent to the caller (499 when the caller went away first).
    pub status: u16,
    /// The caller's address.
    pub client_address: String,
    /// The caller's `User-Agent`.
    pub user_agent: Option<String>,
    /// Allow or deny.
    pub decision: Decision,
    /// Why the request was denied or failed; `None` for a plain success.
    pub reason: Option<&'static str>,
    /// The verified subject.
    pub subject: Option<String>,
    /// The verified issuer.
    pub issuer: Option<String>,
    /// The verified client id.
    pub client_id: Option<String>,
    /// The verified tenant.
    pub tenant: Option<String>,
    /// The lowest remaining quota across the route's policies.
    pub rate_limit_remaining: Option<u64>,
    /// The credential attached upstream.
    pub credential: Option<String>,
    /// The upstream's status.
    pub upstream_status: Option<u16>,
    /// Time from arrival to response, in milliseconds.
    pub duration_ms: f64,
    /// Time spent on the upstream call, in milliseconds.
    pub upstream_duration_ms: Option<f64>,
}
