//! Keys Skybridge signs with: PEM private keys loaded with openssl, their public JWKs named by
//! RFC 7638 thumbprint, compact JWS signing (RS256, ES256, EdDSA), key generation and
//! development tokens.
//!
//! The `self_signed` credential, `skybridge keys generate` and `skybridge token issue` all go
//! through here, so a key that the CLI writes is one the minter can load, and its `kid` is the
//! same everywhere: the thumbprint of its public key, never a file name.
//!
//! No private key material ever leaves [`SigningKey`] except through
//! [`SigningKey::private_pem`], which exists for writing a newly generated key to disk.

mod dev;
mod jwk;
mod key;

pub use dev::{DevToken, generate_key, issue_dev_token, random_jti, unix_now};
pub use jwk::thumbprint;
pub use key::{Algorithm, SigningKey};

/// Why a key could not be loaded or a token not signed. Messages never carry key material.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The bytes are not a PEM private key openssl can read.
    #[error("not a PEM private key: {0}")]
    Pem(openssl::error::ErrorStack),
    /// The key is readable but not one Skybridge signs with.
    #[error("unsupported key: {0}")]
    Unsupported(String),
    /// The algorithm name is not RS256, ES256 or EdDSA.
    #[error("unknown algorithm {0:?}; use RS256, ES256 or EdDSA")]
    UnknownAlgorithm(String),
    /// A JWK lacks a member its thumbprint needs.
    #[error("JWK has no {0:?} member")]
    JwkMember(&'static str),
    /// openssl failed while generating, exporting or signing.
    #[error("cryptographic operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// The claims could not be serialized.
    #[error("cannot serialize JWT: {0}")]
    Json(#[from] serde_json::Error),
}
