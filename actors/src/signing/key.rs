//! A loaded private key: its algorithm, public JWK, `kid`, and compact JWS signing.

use std::fmt;
use std::str::FromStr;

use openssl::bn::{BigNum, BigNumContext};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::Signer;
use serde_json::{Value, json};

use super::SigningError;
use super::jwk::{b64, thumbprint};

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A).
const MIN_RSA_BITS: u32 = 2048;
/// Length of one P-256 coordinate and of each half of an ES256 signature.
const P256_BYTES: i32 = 32;

/// The JWS algorithms Skybridge signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

/// A private key ready to sign JWTs. Debug output shows only the algorithm and `kid`.
pub struct SigningKey {
    algorithm: Algorithm,
    pkey: PKey<Private>,
    kid: String,
    jwk: Value,
}

// === impl Algorithm ===

impl Algorithm {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
}

impl FromStr for Algorithm {
    type Err = SigningError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "RS256" => Ok(Self::RS256),
            "ES256" => Ok(Self::ES256),
            "EdDSA" | "Ed25519" => Ok(Self::EdDSA),
            other => Err(SigningError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl SigningKey ===

impl SigningKey {
    /// Loads a PEM private key (PKCS#8 or the traditional RSA/EC forms): RSA of at least 2048
    /// bits, EC on P-256, or Ed25519. Anything else is refused rather than signed with.
    pub fn from_pem(pem: &[u8]) -> Result<Self, SigningError> {
        let pkey = PKey::private_key_from_pem(pem).map_err(SigningError::Pem)?;
        Self::from_pkey(pkey)
    }

    pub(super) fn from_pkey(pkey: PKey<Private>) -> Result<Self, SigningError> {
        let (algorithm, jwk) = match pkey.id() {
            Id::RSA => (Algorithm::RS256, rsa_jwk(&pkey)?),
            Id::EC => (Algorithm::ES256, ec_jwk(&pkey)?),
            Id::ED25519 => {
                let x = pkey.raw_public_key()?;
                (Algorithm::EdDSA, json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&x)}))
            }
            other => {
                return Err(SigningError::Unsupported(format!(
                    "key type {other:?}; use RSA (2048 bits or more), EC P-256 or Ed25519"
                )));
            }
        };
        let kid = thumbprint(&jwk)?;
        let mut jwk = jwk;
        if let Value::Object(members) = &mut jwk {
            members.insert("kid".into(), Value::String(kid.clone()));
            members.insert("alg".into(), Value::String(algorithm.as_str().into()));
            members.insert("use".into(), Value::String("sig".into()));
        }
        Ok(Self { algorithm, pkey, kid, jwk })
    }

    /// The algorithm this key signs with, fixed by its type.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `kid`, `alg` and `use`, for a JWKS document.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The private key as PKCS#8 PEM, for writing a freshly generated key to a file.
    pub fn private_pem(&self) -> Result<String, SigningError> {
        let pem = self.pkey.private_key_to_pem_pkcs8()?;
        String::from_utf8(pem).map_err(|_| SigningError::Unsupported("PEM is not UTF-8".into()))
    }

    /// Signs `claims` as a compact JWT whose header carries this key's thumbprint as `kid`.
    pub fn sign_jwt(&self, claims: &Value) -> Result<String, SigningError> {
        self.sign_jwt_with_kid(&self.kid, claims)
    }

    /// Signs `claims` as a compact JWT with an explicit `kid`, for issuers that name keys
    /// themselves (a Google service-account key's `private_key_id`).
    pub fn sign_jwt_with_kid(&self, kid: &str, claims: &Value) -> Result<String, SigningError> {
        let header = json!({"alg": self.algorithm.as_str(), "typ": "JWT", "kid": kid});
        let mut token = b64(&serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&b64(&serde_json::to_vec(claims)?));
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64(&signature));
        Ok(token)
    }

    /// The raw JWS signature over `input` (RFC 7518 section 3: ES256 as fixed-width r||s).
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SigningError> {
        match self.algorithm {
            Algorithm::RS256 => {
                let mut signer = Signer::new(MessageDigest::sha256(), &self.pkey)?;
                signer.update(input)?;
                Ok(signer.sign_to_vec()?)
            }
            Algorithm::ES256 => {
                let mut signer = Signer::new(MessageDigest::sha256(), &self.pkey)?;
                signer.update(input)?;
                let der = EcdsaSig::from_der(&signer.sign_to_vec()?)?;
                let mut raw = der.r().to_vec_padded(P256_BYTES)?;
                raw.extend(der.s().to_vec_padded(P256_BYTES)?);
                Ok(raw)
            }
            Algorithm::EdDSA => {
                let mut signer = Signer::new_without_digest(&self.pkey)?;
                Ok(signer.sign_oneshot_to_vec(input)?)
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn rsa_jwk(pkey: &PKey<Private>) -> Result<Value, SigningError> {
    let rsa = pkey.rsa()?;
    let bits = rsa.n().num_bits().unsigned_abs();
    if bits < MIN_RSA_BITS {
        return Err(SigningError::Unsupported(format!(
            "RSA key of {bits} bits; at least {MIN_RSA_BITS} are required"
        )));
    }
    Ok(json!({"kty": "RSA", "n": b64(&rsa.n().to_vec()), "e": b64(&rsa.e().to_vec())}))
}

fn ec_jwk(pkey: &PKey<Private>) -> Result<Value, SigningError> {
    let ec = pkey.ec_key()?;
    let group = ec.group();
    if group.curve_name() != Some(Nid::X9_62_PRIME256V1) {
        return Err(SigningError::Unsupported("EC key not on P-256".into()));
    }
    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
    let mut ctx = BigNumContext::new()?;
    ec.public_key().affine_coordinates(group, &mut x, &mut y, &mut ctx)?;
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(&x.to_vec_padded(P256_BYTES)?),
        "y": b64(&y.to_vec_padded(P256_BYTES)?),
    }))
}
