//! Verification keys and the JWS signature algorithms they verify (RFC 7518 §3, RFC 8037).
//!
//! A [`VerifyingKey`] is immutable once parsed. Whether an algorithm may be used with a key
//! is decided here, from the key's own type and curve, never from the token: an RSA key only
//! verifies RS*/PS*, a P-256 key only ES256, an Ed25519 key only EdDSA.

use openssl::bn::BigNum;
use openssl::ec::EcKey;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};

/// A JWS signature algorithm Skybridge can verify. HMAC and `none` are deliberately absent:
/// a gateway holding only public keys must never accept them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// Edwards-curve signatures (Ed25519 or Ed448, chosen by the key).
    EdDsa,
}

/// An elliptic curve a key can live on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
    /// Ed25519 (RFC 8037).
    Ed25519,
    /// Ed448 (RFC 8037).
    Ed448,
}

/// What kind of key this is, which fixes the algorithms it can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA with its modulus size in bits.
    Rsa {
        /// Modulus size.
        bits: u32,
    },
    /// ECDSA on a NIST curve.
    Ec(Curve),
    /// EdDSA (OKP) on Ed25519 or Ed448.
    Okp(Curve),
}

/// One public key from a JWKS, ready to verify signatures.
pub struct VerifyingKey {
    /// The JWK `kid`, if the key has one.
    pub kid: Option<String>,
    /// Key type and curve.
    pub kind: KeyKind,
    /// The JWK `alg`, when the key restricts itself to one algorithm.
    pub alg: Option<Algorithm>,
    /// A per-key `issuer` (Entra v2 publishes one); tokens verified with this key must match.
    pub issuer: Option<String>,
    /// SHA-256 over the key material, kind, `alg` and `issuer`: identical across refreshes
    /// for an unchanged key, so cached verifications survive a refresh that kept the key.
    pub fingerprint: [u8; 32],
    pkey: PKey<Public>,
    ec: Option<EcKey<Public>>,
}

// === impl Algorithm ===

impl Algorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Algorithm; 10] = [
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::EdDsa,
    ];

    /// The algorithm registered under `name` (exact, case-sensitive as RFC 7515 requires).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The registered JWA name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
        }
    }

    fn digest(self) -> MessageDigest {
        match self {
            Self::Rs256 | Self::Ps256 | Self::Es256 => MessageDigest::sha256(),
            Self::Rs384 | Self::Ps384 | Self::Es384 => MessageDigest::sha384(),
            Self::Rs512 | Self::Ps512 | Self::Es512 | Self::EdDsa => MessageDigest::sha512(),
        }
    }
}

// === impl VerifyingKey ===

impl VerifyingKey {
    /// Wraps parsed key material; `parse` is the only producer.
    pub(crate) fn new(
        kid: Option<String>,
        kind: KeyKind,
        alg: Option<Algorithm>,
        issuer: Option<String>,
        pkey: PKey<Public>,
    ) -> Result<Self, openssl::error::ErrorStack> {
        let ec = match kind {
            KeyKind::Ec(_) => Some(pkey.ec_key()?),
            _ => None,
        };
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(&pkey.public_key_to_der()?);
        hasher.update(format!("{kind:?}|{alg:?}|{issuer:?}").as_bytes());
        Ok(Self { kid, kind, alg, issuer, fingerprint: hasher.finish(), pkey, ec })
    }

    /// Whether this key may verify `alg`: the key type and curve must fit, and a key that
    /// names its own `alg` accepts only that one.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|own| own != alg) {
            return false;
        }
        matches!(
            (self.kind, alg),
            (
                KeyKind::Rsa { .. },
                Algorithm::Rs256
                    | Algorithm::Rs384
                    | Algorithm::Rs512
                    | Algorithm::Ps256
                    | Algorithm::Ps384
                    | Algorithm::Ps512
            ) | (KeyKind::Ec(Curve::P256), Algorithm::Es256)
                | (KeyKind::Ec(Curve::P384), Algorithm::Es384)
                | (KeyKind::Ec(Curve::P521), Algorithm::Es512)
                | (KeyKind::Okp(Curve::Ed25519 | Curve::Ed448), Algorithm::EdDsa)
        )
    }

    /// Checks `signature` over `input` with `alg`. False for any mismatch, including an
    /// algorithm the key does not accept or a signature of the wrong length.
    pub fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        self.verify_inner(alg, input, signature).unwrap_or(false)
    }

    fn verify_inner(
        &self,
        alg: Algorithm,
        input: &[u8],
        signature: &[u8],
    ) -> Result<bool, openssl::error::ErrorStack> {
        match self.kind {
            KeyKind::Rsa { .. } => {
                let mut verifier = Verifier::new(alg.digest(), &self.pkey)?;
                if matches!(alg, Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512) {
                    verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
                    verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                    verifier.set_rsa_mgf1_md(alg.digest())?;
                }
                verifier.verify_oneshot(signature, input)
            }
            KeyKind::Ec(curve) => {
                let Some(ec) = &self.ec else { return Ok(false) };
                // JWS carries R || S as fixed-width big-endian integers (RFC 7518 §3.4),
                // not DER; any other length is malformed.
                let width = coordinate_len(curve);
                if signature.len() != 2 * width {
                    return Ok(false);
                }
                let r = BigNum::from_slice(&signature[..width])?;
                let s = BigNum::from_slice(&signature[width..])?;
                let sig = EcdsaSig::from_private_components(r, s)?;
                let digest = openssl::hash::hash(alg.digest(), input)?;
                sig.verify(&digest, ec)
            }
            KeyKind::Okp(_) => {
                let mut verifier = Verifier::new_without_digest(&self.pkey)?;
                verifier.verify_oneshot(signature, input)
            }
        }
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Byte length of one coordinate (and of R or S) on a curve.
pub(crate) fn coordinate_len(curve: Curve) -> usize {
    match curve {
        Curve::P256 | Curve::Ed25519 => 32,
        Curve::P384 => 48,
        Curve::P521 => 66,
        Curve::Ed448 => 57,
    }
}
