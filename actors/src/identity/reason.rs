//! Why a request was not let in: a closed set of reasons the gateway maps to 401/403/503
//! responses and audit records.

/// The closed set of rejection reasons. The names are the audit `reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthReason {
    /// No `Authorization: Bearer` credential.
    TokenMissing,
    /// Not a compact JWS, bad encoding, oversized, several `Authorization` headers, or
    /// claims of the wrong type.
    TokenMalformed,
    /// `exp` is past (beyond the leeway).
    TokenExpired,
    /// `nbf` is in the future (beyond the leeway).
    TokenNotYetValid,
    /// `alg` is `none`, HMAC, unknown, or not allowed for the issuer or the key.
    AlgorithmNotAllowed,
    /// No key of the issuer has the token's `kid`, even after a refetch.
    KeyUnknown,
    /// The signature does not verify.
    SignatureInvalid,
    /// `iss` names no issuer accepted on this route.
    IssuerUnknown,
    /// `aud` names none of the issuer's audiences.
    AudienceMismatch,
    /// The token's `tid` is not in the issuer's `tenants`.
    TenantNotAllowed,
    /// A required scope is missing.
    InsufficientScope,
    /// A required role is missing.
    InsufficientRole,
    /// A claim matcher failed.
    ClaimMismatch,
    /// The issuer's keys cannot be loaded, so no token of it can be checked now.
    KeysUnavailable,
}

/// A rejected request: the reason and a short description safe to send to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection {
    /// The reason, from the closed set.
    pub reason: AuthReason,
    /// One short sentence for the caller; never contains the token or key material.
    pub description: String,
    /// For `insufficient_scope`: the scopes the route requires, space separated, for the
    /// `scope` attribute of `WWW-Authenticate` (RFC 6750 §3).
    pub required_scope: Option<String>,
}

// === impl AuthReason ===

impl AuthReason {
    /// The stable name used in problem bodies and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenMissing => "token_missing",
            Self::TokenMalformed => "token_malformed",
            Self::TokenExpired => "token_expired",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::KeyUnknown => "key_unknown",
            Self::SignatureInvalid => "signature_invalid",
            Self::IssuerUnknown => "issuer_unknown",
            Self::AudienceMismatch => "audience_mismatch",
            Self::TenantNotAllowed => "tenant_not_allowed",
            Self::InsufficientScope => "insufficient_scope",
            Self::InsufficientRole => "insufficient_role",
            Self::ClaimMismatch => "claim_mismatch",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }

    /// The HTTP status: 401 when the token is not acceptable as a credential, 403 when it
    /// is valid but does not grant this route, 503 when it cannot be checked right now.
    pub fn status(self) -> u16 {
        match self {
            Self::InsufficientScope | Self::InsufficientRole | Self::ClaimMismatch => 403,
            Self::KeysUnavailable => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 `error` attribute for `WWW-Authenticate`: `invalid_token` for every
    /// 401 (the product contract asks for it on a missing token too, although RFC 6750
    /// §3.1 allows leaving it out there), `insufficient_scope` for 403s, none for 503.
    pub fn bearer_error(self) -> Option<&'static str> {
        match self.status() {
            401 => Some("invalid_token"),
            403 => Some("insufficient_scope"),
            _ => None,
        }
    }
}

impl std::fmt::Display for AuthReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl AuthRejection ===

impl AuthRejection {
    /// A rejection without a scope hint.
    pub fn new(reason: AuthReason, description: impl Into<String>) -> Self {
        Self { reason, description: description.into(), required_scope: None }
    }
}

impl std::fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.description)
    }
}

impl std::error::Error for AuthRejection {}
