//! Errors of the token minter. Every message is safe to log and to show in readiness: none
//! carries a token, a key, a secret header or an endpoint's answer body.

/// Why the minter could not start.
#[derive(Debug, thiserror::Error)]
pub enum MinterError {
    /// A credential's files or environment are not usable.
    #[error("credential {credential:?}: {reason}")]
    Setup {
        /// The credential's name.
        credential: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTPS client could not be built.
    #[error("cannot build the HTTPS client: {0}")]
    Tls(#[from] openssl::error::ErrorStack),
}

/// Why a request gets no token. The gateway answers 503 `credential-unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The upstream names a credential that is not configured (validation prevents this).
    #[error("no credential named {0:?}")]
    Unknown(String),
    /// There is no valid token and none could be minted.
    #[error("credential {credential:?} has no valid token: {reason}")]
    Unavailable {
        /// The credential's name.
        credential: String,
        /// The last minting failure, safe to log.
        reason: String,
    },
}

/// Why one mint failed. `step` names the exchange: "token endpoint", "STS token exchange", …
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum MintError {
    /// Connecting, TLS or the exchange itself failed.
    #[error("{step}: request failed: {detail}")]
    Transport { step: &'static str, detail: String },
    /// The whole mint took longer than allowed.
    #[error("no token within {0:?}")]
    Timeout(std::time::Duration),
    /// The endpoint answered with an error status; `code` is its OAuth / Google error code.
    #[error("{step}: HTTP {status}{}", code_suffix(code.as_deref()))]
    Status { step: &'static str, status: u16, code: Option<String> },
    /// The endpoint answered 2xx with something that is not the documented shape.
    #[error("{step}: unexpected answer: {detail}")]
    Malformed { step: &'static str, detail: &'static str },
    /// The token obtained is not one Skybridge may send (wrong audience, already expired).
    #[error("{step}: unusable token: {detail}")]
    Unusable { step: &'static str, detail: String },
    /// Something local failed (signing the assertion, reading the environment).
    #[error("{0}")]
    Local(String),
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|code| format!(" ({code})")).unwrap_or_default()
}
