//! The credential step: the token Skybridge presents to the route's upstream.
//!
//! The token comes from the minter's snapshot (no message round trip unless it has no valid
//! token). When the upstream answers 401 to a token, the token is dropped so the next request
//! gets a new one; the request itself is sent again once, and only when that is safe: an
//! idempotent method and no body (a streamed body cannot be replayed).

use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use skybridge_actors::minter::{CallerIdentity, CredentialError, Credentials, Token};

use crate::error::GatewayError;
use crate::state::Upstream;

/// The upstream's current token, or `None` when the upstream has no credential.
pub async fn obtain(
    credentials: &Credentials,
    upstream: &Upstream,
    caller: Option<&CallerIdentity>,
) -> Result<Option<Token>, GatewayError> {
    let Some(name) = &upstream.credential else { return Ok(None) };
    match credentials.token(name, caller).await {
        Ok(token) => Ok(Some(token)),
        Err(CredentialError::Unknown(_)) => {
            Err(GatewayError::Internal(format!("credential {name} is not configured")))
        }
        Err(CredentialError::Unavailable { reason, .. }) => {
            Err(GatewayError::CredentialUnavailable { credential: name.to_string(), cause: reason })
        }
    }
}

/// The header carrying `token` upstream.
pub fn header(token: &Token) -> Result<(HeaderName, HeaderValue), GatewayError> {
    let mut value = HeaderValue::from_str(token.header_value())
        .map_err(|_| GatewayError::Internal("minted token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok((HeaderName::from_static(token.header_name()), value))
}

/// Whether a request refused with 401 may be sent again with a fresh token.
pub fn may_resend(method: &Method, has_body: bool) -> bool {
    !has_body
        && matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
        )
}
