//! Token crafting for tests and benchmarks: keys for every algorithm the verifier accepts
//! (PS256 included) and compact JWS with any header, hostile ones too. The gateway never
//! uses this module; `skybridge keys generate` and `skybridge token issue` sign with
//! [`crate::signing`], whose tokens the identity tests also verify.
//!
//! Key ids are RFC 7638 JWK thumbprints, like those [`crate::signing`] computes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};
use serde_json::{Value, json};

use super::error::DevToolError;
use crate::jwks::Algorithm;

/// A new key pair.
pub struct GeneratedKey {
    /// The private key, PKCS#8 PEM.
    pub private_pem: Vec<u8>,
    /// The public key as a JWK with `kid`, `alg` and `use`.
    pub jwk: Value,
    /// The key id (RFC 7638 thumbprint).
    pub kid: String,
}

/// Generates a key for `alg`: RSA 2048 for RS256/PS256, P-256 for ES256, Ed25519 for EdDSA.
pub fn generate_key(alg: Algorithm) -> Result<GeneratedKey, DevToolError> {
    let key = match alg {
        Algorithm::Rs256 | Algorithm::Ps256 => PKey::from_rsa(Rsa::generate(2048)?)?,
        Algorithm::Es256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        Algorithm::EdDsa => PKey::generate_ed25519()?,
        other => return Err(DevToolError::UnsupportedAlgorithm(other.name().to_owned())),
    };
    let (jwk, kid) = public_jwk(&key, alg)?;
    Ok(GeneratedKey { private_pem: key.private_key_to_pem_pkcs8()?, jwk, kid })
}

/// Signs `claims` under `header` as a compact JWS, with the algorithm named by the header's
/// `alg` (which must fit the key). Tests use it to build tokens with any header.
pub fn sign_compact(
    key: &PKey<Private>,
    header: &Value,
    claims: &Value,
) -> Result<String, DevToolError> {
    let name = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    let alg = Algorithm::from_name(name)
        .ok_or_else(|| DevToolError::UnsupportedAlgorithm(name.to_owned()))?;
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let signature = sign(key, alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

/// Signs `input` with `alg` and returns the JWS signature bytes (R || S for ECDSA).
pub fn sign(key: &PKey<Private>, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, DevToolError> {
    let digest = match alg {
        Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 => MessageDigest::sha256(),
        Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 => MessageDigest::sha384(),
        _ => MessageDigest::sha512(),
    };
    match alg {
        Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => {
            let width = match alg {
                Algorithm::Es256 => 32,
                Algorithm::Es384 => 48,
                _ => 66,
            };
            let sig = EcdsaSig::sign(&hash(digest, input)?, &*key.ec_key()?)?;
            let mut out = sig.r().to_vec_padded(width)?;
            out.extend(sig.s().to_vec_padded(width)?);
            Ok(out)
        }
        Algorithm::EdDsa => Ok(Signer::new_without_digest(key)?.sign_oneshot_to_vec(input)?),
        _ => {
            let mut signer = Signer::new(digest, key)?;
            if matches!(alg, Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512) {
                signer.set_rsa_padding(Padding::PKCS1_PSS)?;
                signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                signer.set_rsa_mgf1_md(digest)?;
            }
            Ok(signer.sign_oneshot_to_vec(input)?)
        }
    }
}

/// The public JWK of `key` for `alg`, and its RFC 7638 thumbprint used as `kid`.
pub fn public_jwk(key: &PKey<Private>, alg: Algorithm) -> Result<(Value, String), DevToolError> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    // RFC 7638 §3.2 hashes the required members in lexicographic order without spaces;
    // the values are base64url or fixed names, so none needs JSON escaping.
    let (canonical, mut jwk) = match key.id() {
        Id::RSA => {
            let rsa = key.rsa()?;
            let (n, e) = (b64(&rsa.n().to_vec()), b64(&rsa.e().to_vec()));
            (
                format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
                json!({"kty": "RSA", "n": n, "e": e}),
            )
        }
        Id::EC => {
            let ec = key.ec_key()?;
            let mut ctx = BigNumContext::new()?;
            let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
            ec.public_key().affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
            let (x, y) = (b64(&x.to_vec_padded(32)?), b64(&y.to_vec_padded(32)?));
            let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
            (canonical, json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}))
        }
        Id::ED25519 => {
            let x = b64(&key.raw_public_key()?);
            (
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
                json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            )
        }
        _ => return Err(DevToolError::UnsupportedAlgorithm(alg.name().to_owned())),
    };
    let kid = b64(&hash(MessageDigest::sha256(), canonical.as_bytes())?);
    jwk["kid"] = Value::String(kid.clone());
    jwk["alg"] = Value::String(alg.name().to_owned());
    jwk["use"] = Value::String("sig".to_owned());
    Ok((jwk, kid))
}
