//! RFC 9457 problem details and the closed set of problem types Skybridge answers with.
//!
//! Every error response the gateway generates uses one of the [`ProblemType`]s below, so a
//! client can switch on `type` and an operator can grep for it. The `type` URIs are stable
//! identifiers; they are not meant to be dereferenced.

use serde::Serialize;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://skybridge.dev/problems/";

/// The media type of an RFC 9457 body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One kind of failure, with its fixed title and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    /// Short identifier appended to [`PROBLEM_BASE`]; also used as the audit `reason`.
    pub slug: &'static str,
    /// Human-readable summary that does not change between occurrences.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
}

macro_rules! problem_types {
    ($($(#[$doc:meta])* $name:ident = ($slug:literal, $status:literal, $title:literal);)*) => {
        $( $(#[$doc])* pub const $name: ProblemType =
            ProblemType { slug: $slug, title: $title, status: $status }; )*
        /// Every problem type, for documentation and tests.
        pub const ALL: &[ProblemType] = &[$($name),*];
    };
}

/// The closed vocabulary of problem types.
pub mod types {
    use super::ProblemType;

    problem_types! {
        /// The request path is not acceptable (encoded slash, NUL, not absolute).
        BAD_REQUEST_PATH = ("bad-request-path", 400, "The request path is not acceptable");
        /// The request is malformed in a way other than its path.
        BAD_REQUEST = ("bad-request", 400, "The request is malformed");
        /// No route matches the request's host and path.
        ROUTE_NOT_FOUND = ("route-not-found", 404, "No route matches this request");
        /// A route matches the path but not the method.
        METHOD_NOT_ALLOWED = ("method-not-allowed", 405, "The method is not allowed on this route");
        /// The request body exceeds the listener's `max_body_bytes`.
        PAYLOAD_TOO_LARGE = ("payload-too-large", 413, "The request body is too large");
        /// No valid bearer token: missing, malformed, expired, wrongly signed or not for us.
        UNAUTHENTICATED = ("unauthenticated", 401, "A valid bearer token is required");
        /// The token is valid but lacks a scope, role or claim the route requires.
        FORBIDDEN = ("forbidden", 403, "The token does not grant access to this route");
        /// The issuer's keys could not be loaded, so no token of it can be checked.
        ISSUER_UNAVAILABLE = ("issuer-unavailable", 503, "The token issuer's keys are unavailable");
        /// A `rate` policy is exhausted; `Retry-After` says when to come back.
        RATE_LIMITED = ("quota-exceeded", 429, "Too many requests");
        /// A calendar `quota` policy is spent until its window ends.
        QUOTA_EXHAUSTED = ("quota-exceeded", 403, "The quota for this period is spent");
        /// The shared limiter's store is unavailable and the policy refuses meanwhile.
        REDUCED_CAPACITY = ("temporary-reduced-capacity", 503, "Capacity is temporarily reduced");
        /// The upstream refused the connection, failed TLS or broke the exchange.
        UPSTREAM_UNREACHABLE = ("upstream-unreachable", 502, "The upstream could not be reached");
        /// The upstream did not answer within the configured timeout.
        UPSTREAM_TIMEOUT = ("upstream-timeout", 504, "The upstream did not answer in time");
        /// The upstream's credential has no valid token and none could be minted.
        CREDENTIAL_UNAVAILABLE =
            ("credential-unavailable", 503, "The upstream credential is unavailable");
        /// Something inside the gateway failed; details are in its log under the request id.
        INTERNAL = ("internal-error", 500, "The gateway failed to handle this request");
    }
}

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The problem type's fixed title.
    pub title: &'static str,
    /// The HTTP status code, repeated for clients that only see the body.
    pub status: u16,
    /// What went wrong for this request, for the caller; never internal detail or secrets.
    pub detail: String,
    /// The request's `x-request-id`, so a caller can quote it to an operator.
    pub request_id: String,
    /// The rate-limit policies that refused the request (IETF RateLimit draft).
    #[serde(rename = "violated-policies", skip_serializing_if = "Option::is_none")]
    pub violated_policies: Option<Vec<String>>,
}

impl Problem {
    /// A problem of the given type for one request.
    pub fn new(kind: ProblemType, detail: impl Into<String>, request_id: &str) -> Self {
        Self {
            type_uri: format!("{PROBLEM_BASE}{}", kind.slug),
            title: kind.title,
            status: kind.status,
            detail: detail.into(),
            request_id: request_id.to_owned(),
            violated_policies: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_unique_and_statuses_are_errors() {
        let mut slugs: Vec<_> = types::ALL.iter().map(|t| (t.slug, t.status)).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), types::ALL.len());
        assert!(types::ALL.iter().all(|t| (400..600).contains(&t.status)));
    }

    #[test]
    fn serializes_rfc9457_members() {
        let problem = Problem::new(types::ROUTE_NOT_FOUND, "No route for /x.", "abc");
        let json = serde_json::to_value(&problem).expect("serializes");
        assert_eq!(json["type"], "https://skybridge.dev/problems/route-not-found");
        assert_eq!(json["status"], 404);
        assert_eq!(json["request_id"], "abc");
        assert_eq!(json["title"], "No route matches this request");
    }
}
