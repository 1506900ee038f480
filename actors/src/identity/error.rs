//! Errors of starting the verifier and of the developer key and token tools.

use crate::jwks::JwksError;

/// The verifier could not start; each names the issuer so the operator knows where to look.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The issuer names none of `discovery_url`, `jwks_uri` and `jwks_file`.
    #[error("issuer {issuer:?} names no key source (discovery_url, jwks_uri or jwks_file)")]
    NoKeySource {
        /// The issuer's name.
        issuer: String,
    },
    /// None of the issuer's algorithms can be verified.
    #[error("issuer {issuer:?} allows no supported algorithm")]
    NoAlgorithms {
        /// The issuer's name.
        issuer: String,
    },
    /// The issuer's `jwks_file` cannot be read or has no usable key.
    #[error("issuer {issuer:?}: {source}")]
    Keys {
        /// The issuer's name.
        issuer: String,
        /// Why the keys could not be loaded.
        source: JwksError,
    },
}

/// Failures of the test and benchmark token crafting in `devtools`.
#[derive(Debug, thiserror::Error)]
pub enum DevToolError {
    /// The algorithm cannot be used for development keys.
    #[error("algorithm {0} is not supported here; use RS256, PS256, ES256 or EdDSA")]
    UnsupportedAlgorithm(String),
    /// The crypto backend failed.
    #[error("crypto backend error: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// Serializing the token failed.
    #[error("cannot encode the token: {0}")]
    Encode(#[from] serde_json::Error),
}
