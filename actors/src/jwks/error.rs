//! Why keys could not be loaded, and why a single key was skipped.

/// A failed load of an issuer's keys. The last good keys stay in use meanwhile.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The HTTP request failed: connection refused, TLS, timeout.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// The URL asked for (configuration, never secret).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with a status other than 200.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL asked for.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The document exceeds the size cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The discovery document names another issuer than the configured one.
    #[error("discovery names issuer {found:?}, configured {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The discovered issuer.
        found: String,
    },
    /// The document is not a discovery document or JWK set.
    #[error("invalid document: {0}")]
    Invalid(String),
    /// The set parsed but none of its keys can verify signatures.
    #[error("no usable key in the set ({skipped} skipped)")]
    NoUsableKey {
        /// How many keys were skipped.
        skipped: usize,
    },
    /// A `jwks_file` could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Why one key of a set is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// `use` other than `sig`, `key_ops` without `verify`, or a key-agreement curve.
    #[error("not a signature key")]
    NotForSigning,
    /// A `kty` we do not verify with, such as `oct` (a shared secret).
    #[error("unsupported kty {0:?}")]
    UnsupportedKty(String),
    /// A curve we do not verify with.
    #[error("unsupported crv {0:?}")]
    UnsupportedCurve(String),
    /// A JWK `alg` we do not verify, or one that does not fit the key type.
    #[error("unsupported alg {0:?}")]
    UnsupportedAlg(String),
    /// An RSA modulus below 2048 bits.
    #[error("RSA key of {0} bits is too weak")]
    WeakRsa(u32),
    /// A missing or undecodable member, or key material openssl rejects.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A second key with a `kid` already seen; the first one wins.
    #[error("duplicate kid")]
    DuplicateKid,
}
