//! The gateway's one error type and the one place it becomes an HTTP response.
//!
//! Every step of the request path returns [`GatewayError`]. [`GatewayError::respond`] turns it
//! into an RFC 9457 `application/problem+json` response; handlers never build error responses
//! themselves. Internal detail (upstream addresses, OS errors, TLS alerts) goes to the log
//! with the request id, never into the body.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use skybridge_shared::problem::{PROBLEM_CONTENT_TYPE, Problem, ProblemType, types};

use skybridge_actors::identity::AuthReason;
use skybridge_actors::rate_limiter::DenialKind;

use crate::limit;
use crate::path::PathError;

/// Where a failure came from; decides the status family and whether a retry is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The caller sent something we refuse (4xx).
    Client,
    /// The upstream failed or was unreachable (502/504).
    Upstream,
    /// Skybridge itself could not serve (500/503).
    Internal,
}

/// Everything that can stop a request inside Skybridge.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The path cannot be normalised safely.
    #[error("bad request path: {0}")]
    BadPath(#[from] PathError),
    /// The request is malformed; the text is safe to show the caller.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The caller's connection failed while its body was being read.
    #[error("the caller's body failed mid-stream")]
    ClientBodyFailed,
    /// No route matches.
    #[error("no route matches")]
    RouteNotFound,
    /// A route matches the path but not the method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Methods the matching routes accept, for `Allow`.
        allow: Vec<String>,
    },
    /// The body is larger than `max_body_bytes`.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The upstream refused the connection, failed TLS or broke the exchange.
    #[error("upstream {upstream} unreachable: {cause}")]
    UpstreamUnreachable {
        /// The upstream's name.
        upstream: String,
        /// What went wrong, for the log only.
        cause: String,
    },
    /// The upstream did not answer in time.
    #[error("upstream {upstream} timed out")]
    UpstreamTimeout {
        /// The upstream's name.
        upstream: String,
    },
    /// The caller's token was refused (401), does not grant the route (403), or its issuer's
    /// keys are unavailable (503).
    #[error("token refused: {}", reason.as_str())]
    Unauthenticated {
        /// Why, from the closed set.
        reason: AuthReason,
        /// One sentence for the caller, never containing the token.
        description: String,
        /// The scopes the route requires, for `WWW-Authenticate` on 403.
        required_scope: Option<String>,
    },
    /// A rate-limit or quota policy refused the request.
    #[error("refused by rate-limit policies {violated_policies:?}")]
    Limited {
        /// Which refusal.
        kind: DenialKind,
        /// Seconds until a retry can succeed, rounded up.
        retry_after_secs: u64,
        /// The policies that refused.
        violated_policies: Vec<String>,
    },
    /// The upstream's credential has no valid token.
    #[error("credential {credential} unavailable: {cause}")]
    CredentialUnavailable {
        /// The credential's name.
        credential: String,
        /// Why, for the log only.
        cause: String,
    },
    /// A bug or an unexpected local failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl GatewayError {
    /// The problem type this error is answered with.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::BadPath(_) => types::BAD_REQUEST_PATH,
            Self::BadRequest(_) | Self::ClientBodyFailed => types::BAD_REQUEST,
            Self::RouteNotFound => types::ROUTE_NOT_FOUND,
            Self::MethodNotAllowed { .. } => types::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => types::PAYLOAD_TOO_LARGE,
            Self::UpstreamUnreachable { .. } => types::UPSTREAM_UNREACHABLE,
            Self::UpstreamTimeout { .. } => types::UPSTREAM_TIMEOUT,
            Self::Limited { kind, .. } => limit::describe(*kind).1,
            Self::Unauthenticated { reason, .. } => match reason.status() {
                403 => types::FORBIDDEN,
                503 => types::ISSUER_UNAVAILABLE,
                _ => types::UNAUTHENTICATED,
            },
            Self::CredentialUnavailable { .. } => types::CREDENTIAL_UNAVAILABLE,
            Self::Internal(_) => types::INTERNAL,
        }
    }

    /// Where the failure came from.
    pub fn origin(&self) -> Origin {
        match self {
            Self::BadPath(_)
            | Self::BadRequest(_)
            | Self::ClientBodyFailed
            | Self::RouteNotFound
            | Self::MethodNotAllowed { .. }
            | Self::PayloadTooLarge { .. }
            | Self::Limited { .. } => Origin::Client,
            Self::Unauthenticated { reason, .. } if reason.status() < 500 => Origin::Client,
            Self::Unauthenticated { .. } => Origin::Internal,
            Self::UpstreamUnreachable { .. } | Self::UpstreamTimeout { .. } => Origin::Upstream,
            Self::CredentialUnavailable { .. } | Self::Internal(_) => Origin::Internal,
        }
    }

    /// The audit record's `reason`, from a closed set.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UpstreamUnreachable { .. } => "upstream_unreachable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::ClientBodyFailed => "client_closed",
            Self::CredentialUnavailable { .. } => "credential_unavailable",
            Self::Limited { kind, .. } => limit::describe(*kind).0,
            Self::Unauthenticated { reason, .. } => reason.as_str(),
            Self::BadPath(_) => "path_invalid",
            Self::BadRequest(_) => "bad_request",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Internal(_) => "internal_error",
        }
    }

    /// What the caller is told: specific enough to act on, with no internal detail.
    fn detail(&self) -> String {
        match self {
            Self::BadPath(err) => format!("Refused because {err}."),
            Self::BadRequest(why) => format!("{why}."),
            Self::ClientBodyFailed => "The request body could not be read.".to_owned(),
            Self::RouteNotFound => "No route is configured for this host and path.".to_owned(),
            Self::MethodNotAllowed { allow } => {
                format!("This route accepts {}.", allow.join(", "))
            }
            Self::PayloadTooLarge { limit } => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            Self::UpstreamUnreachable { .. } => {
                "The upstream could not be reached or failed the exchange.".to_owned()
            }
            Self::UpstreamTimeout { .. } => "The upstream did not answer in time.".to_owned(),
            Self::Unauthenticated { description, .. } => description.clone(),
            Self::Limited { kind: DenialKind::StoreUnavailable, .. } => {
                "Rate limits cannot be checked right now; try again shortly.".to_owned()
            }
            Self::Limited { retry_after_secs, .. } => {
                format!("A rate-limit policy refused this request; retry in {retry_after_secs} s.")
            }
            Self::CredentialUnavailable { .. } => {
                "No credential for the upstream could be obtained; try again shortly.".to_owned()
            }
            Self::Internal(_) => "An internal error occurred; quote the request id.".to_owned(),
        }
    }

    /// Renders the error as problem+json for the request `request_id`.
    pub fn respond(&self, request_id: &str) -> HttpResponse {
        let kind = self.problem_type();
        let mut problem = Problem::new(kind, self.detail(), request_id);
        let status = StatusCode::from_u16(kind.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::CredentialUnavailable { .. } => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::Unauthenticated { reason, description, required_scope } => {
                if let Some(challenge) = challenge(*reason, description, required_scope.as_deref())
                {
                    response.insert_header((header::WWW_AUTHENTICATE, challenge));
                }
                if reason.status() == 503 {
                    response.insert_header((header::RETRY_AFTER, "5"));
                }
            }
            Self::Limited { retry_after_secs, violated_policies, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
                problem.violated_policies = Some(violated_policies.clone());
            }
            _ => {}
        }
        response.json(problem)
    }
}

/// The RFC 6750 §3 challenge: `Bearer error="…", error_description="…"` and, for a missing
/// scope, `scope="…"`. Quotes and backslashes are dropped from the description so the header
/// stays well formed.
fn challenge(reason: AuthReason, description: &str, scope: Option<&str>) -> Option<HeaderValue> {
    let error = reason.bearer_error()?;
    let clean = |text: &str| text.chars().filter(|c| *c != '"' && *c != '\\').collect::<String>();
    let mut value =
        format!("Bearer error=\"{error}\", error_description=\"{}\"", clean(description));
    if let Some(scope) = scope {
        value.push_str(&format!(", scope=\"{}\"", clean(scope)));
    }
    HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn body(response: HttpResponse) -> serde_json::Value {
        let bytes = response.into_body().try_into_bytes().expect("sized body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn upstream_detail_never_leaks() {
        let err = GatewayError::UpstreamUnreachable {
            upstream: "orders".into(),
            cause: "connection refused to 10.1.2.3:443".into(),
        };
        let response = err.respond("rid");
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        assert_eq!(
            content_type.as_ref().map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        let json = body(response);
        assert!(!json.to_string().contains("10.1.2.3"));
        assert_eq!(json["request_id"], "rid");
        assert_eq!(json["status"], 502);
    }

    #[test]
    fn method_not_allowed_sends_allow() {
        let err = GatewayError::MethodNotAllowed { allow: vec!["GET".into(), "HEAD".into()] };
        let response = err.respond("rid");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.headers().get(header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET, HEAD"[..])
        );
    }
}
