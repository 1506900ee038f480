//! The authentication step: who the caller is, and whether the route lets them in.
//!
//! Routes with `auth = "anonymous"` skip it. Otherwise the caller's bearer token is verified
//! by the [`Verifier`] (keys from a lock-free snapshot; a message to the issuer's JWKS actor
//! only for an unknown key id) and checked against the route's requirements. The verified
//! identity goes upstream in headers Skybridge owns (`x-skybridge-*`); copies a caller sent
//! are always removed (see `forward`), and the caller's own `Authorization` header is only
//! passed on when the route sets `forward_token`.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use skybridge_actors::identity::{AuthRejection, Identity, Verifier};
use skybridge_actors::minter::CallerIdentity;
use skybridge_shared::config::AuthPolicy;

use crate::error::GatewayError;
use crate::exchange::Exchange;
use crate::routing::Route;

/// What the authentication step decided about the upstream request.
#[derive(Default)]
pub struct Authenticated {
    /// The verified caller, on routes that require a token.
    pub identity: Option<Arc<Identity>>,
    /// Identity headers for the upstream.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Whether the caller's `Authorization` header must not reach the upstream.
    pub drop_authorization: bool,
}

impl Authenticated {
    /// The caller as a self-signed credential may embed it.
    pub fn caller(&self) -> Option<CallerIdentity> {
        self.identity.as_deref().map(|identity| CallerIdentity {
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            client_id: identity.client_id.clone(),
            tenant: identity.tenant.clone(),
        })
    }
}

/// Verifies the caller against the route's policy.
pub async fn authenticate(
    verifier: &Verifier,
    request: &HttpRequest,
    route: &Route,
    exchange: &mut Exchange,
) -> Result<Authenticated, GatewayError> {
    let AuthPolicy::Required(policy) = &route.auth else {
        return Ok(Authenticated::default());
    };
    let values: Vec<&[u8]> =
        request.headers().get_all(header::AUTHORIZATION).map(HeaderValue::as_bytes).collect();
    let identity = verifier.authenticate(&values, policy).await.map_err(rejected)?;
    exchange.identity = Some(identity.clone());
    let span = tracing::Span::current();
    span.record("skybridge.subject", identity.subject.as_str());
    Ok(Authenticated {
        headers: identity_headers(&identity),
        identity: Some(identity),
        drop_authorization: !policy.forward_token,
    })
}

fn rejected(rejection: AuthRejection) -> GatewayError {
    GatewayError::Unauthenticated {
        reason: rejection.reason,
        description: rejection.description,
        required_scope: rejection.required_scope,
    }
}

/// `x-skybridge-subject`, `-issuer`, `-client-id`, `-tenant` and `-scopes`; values that are not
/// valid header text are left out rather than mangled.
fn identity_headers(identity: &Identity) -> Vec<(HeaderName, HeaderValue)> {
    let scopes = identity.scopes.join(" ");
    let fields = [
        ("x-skybridge-subject", Some(identity.subject.as_str())),
        ("x-skybridge-issuer", Some(identity.issuer.as_str())),
        ("x-skybridge-client-id", identity.client_id.as_deref()),
        ("x-skybridge-tenant", identity.tenant.as_deref()),
        ("x-skybridge-scopes", (!scopes.is_empty()).then_some(scopes.as_str())),
    ];
    fields
        .into_iter()
        .filter_map(|(name, value)| {
            let value = HeaderValue::from_str(value?).ok()?;
            Some((HeaderName::from_static(name), value))
        })
        .collect()
}
