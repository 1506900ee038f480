//! The token handed to request handlers, and the caller identity a self-signed token may carry.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;
use skybridge_shared::config::InjectHeader;

/// A token ready to inject. Cheap to clone; Debug and Display never show its value.
#[derive(Clone)]
pub struct Token {
    inner: Arc<Inner>,
}

struct Inner {
    credential: Arc<str>,
    header: InjectHeader,
    bearer: String,
    expires_at: SystemTime,
    usable_until: SystemTime,
    minted_at: Instant,
    serial: u64,
    kid: Option<String>,
}

/// The verified caller a `self_signed` token may name in its `caller` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    /// `iss` of the caller's token.
    #[serde(rename = "iss")]
    pub issuer: String,
    /// `sub` of the caller's token.
    #[serde(rename = "sub")]
    pub subject: String,
    /// The OAuth client (`azp` / `appid` / `client_id`), when the caller's token names one.
    #[serde(rename = "azp", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The Entra tenant (`tid`), when there is one.
    #[serde(rename = "tid", skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// What a freshly minted token carries besides its text.
pub(crate) struct TokenParts {
    pub(crate) credential: Arc<str>,
    pub(crate) header: InjectHeader,
    pub(crate) jwt: String,
    pub(crate) expires_at: SystemTime,
    /// The token is no longer handed out after this; the minter replaces it before then.
    pub(crate) usable_until: SystemTime,
    pub(crate) serial: u64,
    pub(crate) kid: Option<String>,
}

// === impl Token ===

impl Token {
    pub(crate) fn new(parts: TokenParts) -> Self {
        let inner = Inner {
            credential: parts.credential,
            header: parts.header,
            bearer: format!("Bearer {}", parts.jwt),
            expires_at: parts.expires_at,
            usable_until: parts.usable_until,
            minted_at: Instant::now(),
            serial: parts.serial,
            kid: parts.kid,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The lower-case header to set: `authorization` or `x-serverless-authorization`.
    pub fn header_name(&self) -> &'static str {
        self.inner.header.name()
    }

    /// Which header the token goes in.
    pub fn header(&self) -> InjectHeader {
        self.inner.header
    }

    /// The header value: `Bearer <jwt>`. Never log it.
    pub fn header_value(&self) -> &str {
        &self.inner.bearer
    }

    /// The bare JWT. Never log it.
    pub fn jwt(&self) -> &str {
        &self.inner.bearer["Bearer ".len()..]
    }

    /// The token's `exp`.
    pub fn expires_at(&self) -> SystemTime {
        self.inner.expires_at
    }

    /// The credential that minted it.
    pub fn credential(&self) -> &str {
        &self.inner.credential
    }

    /// Whether the token may still be handed to a request at `now`.
    pub(crate) fn usable_at(&self, now: SystemTime) -> bool {
        now < self.inner.usable_until
    }

    /// How long ago it was minted.
    pub(crate) fn age(&self) -> Duration {
        self.inner.minted_at.elapsed()
    }

    /// Distinguishes tokens of one credential, so a stale invalidation drops nothing newer.
    pub(crate) fn serial(&self) -> u64 {
        self.inner.serial
    }

    /// The signing key of a self-signed token.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.inner.kid.as_deref()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("credential", &self.inner.credential)
            .field("header", &self.inner.header)
            .field("expires_at", &self.inner.expires_at)
            .field("serial", &self.inner.serial)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token #{} of credential {:?}", self.inner.serial, self.inner.credential)
    }
}

/// The claims of a JWT, read without verifying it: the minter trusts the endpoint it asked
/// over TLS and only needs `exp` and `aud`.
pub(crate) fn unverified_claims(jwt: &str) -> Result<Value, &'static str> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a compact JWT");
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| "the JWT payload is not base64url")?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|_| "the JWT payload is not JSON")?;
    if claims.is_object() { Ok(claims) } else { Err("the JWT payload is not a JSON object") }
}

/// The `exp` claim as a time, when it is an integer NumericDate.
pub(crate) fn expiry(claims: &Value) -> Option<SystemTime> {
    claims.get("exp").and_then(Value::as_u64).map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
}

/// Whether `aud` (a string or an array of strings) contains `audience`.
pub(crate) fn has_audience(claims: &Value, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}
