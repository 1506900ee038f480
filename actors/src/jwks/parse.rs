//! Parsing a JWK Set (RFC 7517) into verification keys, one key at a time.
//!
//! A set is judged key by key (RFC 7517 §5): a key we cannot or must not use is skipped with
//! a reason, and the set fails only when no usable key is left. Real issuers publish sets
//! that mix signing and encryption keys, certificates, and algorithms we do not support;
//! rejecting the whole set for one of them would lock every caller out.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey};
use openssl::rsa::Rsa;
use serde_json::{Map, Value};

use super::error::{JwksError, SkipReason};
use super::key::{Algorithm, Curve, KeyKind, VerifyingKey, coordinate_len};

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A).
pub const MIN_RSA_BITS: u32 = 2048;

/// Base64url for key members: issuers are not all strict about padding or trailing bits in
/// JWK members, and the key material is checked by openssl anyway. Tokens use a strict
/// engine instead.
const LENIENT_B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The usable keys of a set and what was skipped, with reasons.
#[derive(Debug, Default)]
pub struct ParsedSet {
    /// Keys ready to verify, in document order, unique by `kid`.
    pub keys: Vec<VerifyingKey>,
    /// Skipped keys: their `kid` (if any) and why.
    pub skipped: Vec<(Option<String>, SkipReason)>,
}

/// Parses a JWKS document. Fails when it is not a JSON object with a `keys` array, or when
/// no key in it is usable.
pub fn parse_jwks(document: &[u8]) -> Result<ParsedSet, JwksError> {
    let value: Value = serde_json::from_slice(document)
        .map_err(|err| JwksError::Invalid(format!("not JSON: {err}")))?;
    let Some(keys) = value.get("keys").and_then(Value::as_array) else {
        return Err(JwksError::Invalid("no \"keys\" array".to_owned()));
    };
    let mut set = ParsedSet::default();
    let mut seen = HashSet::new();
    for entry in keys {
        let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
        let parsed = match entry.as_object() {
            Some(jwk) => parse_jwk(jwk),
            None => Err(SkipReason::Malformed("not an object")),
        };
        match parsed {
            Ok(key) => {
                if let Some(kid) = &key.kid
                    && !seen.insert(kid.clone())
                {
                    set.skipped.push((key.kid.clone(), SkipReason::DuplicateKid));
                    continue;
                }
                set.keys.push(key);
            }
            Err(reason) => set.skipped.push((kid, reason)),
        }
    }
    if set.keys.is_empty() {
        return Err(JwksError::NoUsableKey { skipped: set.skipped.len() });
    }
    Ok(set)
}

/// Parses one JWK into a verification key, or says why it cannot be used.
pub fn parse_jwk(jwk: &Map<String, Value>) -> Result<VerifyingKey, SkipReason> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|usage| usage != "sig") {
        return Err(SkipReason::NotForSigning);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops.as_array().is_some_and(|ops| ops.iter().any(|op| op == "verify"));
        if !verifies {
            return Err(SkipReason::NotForSigning);
        }
    }
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(name)) => match Algorithm::from_name(name) {
            Some(alg) => Some(alg),
            None => return Err(SkipReason::UnsupportedAlg(name.clone())),
        },
        Some(_) => return Err(SkipReason::Malformed("alg is not a string")),
    };
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(SkipReason::Malformed("kid is not a string")),
    };
    let issuer = text("issuer").map(str::to_owned);
    let (kind, pkey) = match text("kty") {
        Some("RSA") => rsa_key(jwk)?,
        Some("EC") => ec_key(jwk)?,
        Some("OKP") => okp_key(jwk)?,
        Some(other) => return Err(SkipReason::UnsupportedKty(other.to_owned())),
        None => return Err(SkipReason::Malformed("no kty")),
    };
    let key = VerifyingKey::new(kid, kind, alg, issuer, pkey)
        .map_err(|_| SkipReason::Malformed("key material rejected by the crypto backend"))?;
    if let Some(alg) = alg
        && !key.accepts(alg)
    {
        return Err(SkipReason::UnsupportedAlg(alg.name().to_owned()));
    }
    Ok(key)
}

fn member(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, SkipReason> {
    let text = jwk.get(name).and_then(Value::as_str).ok_or(SkipReason::Malformed(name))?;
    LENIENT_B64URL.decode(text).map_err(|_| SkipReason::Malformed(name))
}

fn rsa_key(jwk: &Map<String, Value>) -> Result<(KeyKind, PKey<openssl::pkey::Public>), SkipReason> {
    // BigNum ignores leading zero bytes, which some issuers leave in `n` and `e`.
    let n = BigNum::from_slice(&member(jwk, "n")?).map_err(|_| SkipReason::Malformed("n"))?;
    let e = BigNum::from_slice(&member(jwk, "e")?).map_err(|_| SkipReason::Malformed("e"))?;
    let bits = u32::try_from(n.num_bits()).unwrap_or(0);
    if bits < MIN_RSA_BITS {
        return Err(SkipReason::WeakRsa(bits));
    }
    if e.num_bits() < 2 || e.num_bits() > 64 || !e.is_bit_set(0) {
        return Err(SkipReason::Malformed("e"));
    }
    let rsa = Rsa::from_public_components(n, e).map_err(|_| SkipReason::Malformed("n"))?;
    let pkey = PKey::from_rsa(rsa).map_err(|_| SkipReason::Malformed("n"))?;
    Ok((KeyKind::Rsa { bits }, pkey))
}

fn ec_key(jwk: &Map<String, Value>) -> Result<(KeyKind, PKey<openssl::pkey::Public>), SkipReason> {
    let crv = jwk.get("crv").and_then(Value::as_str).ok_or(SkipReason::Malformed("crv"))?;
    let (curve, nid) = match crv {
        "P-256" => (Curve::P256, Nid::X9_62_PRIME256V1),
        "P-384" => (Curve::P384, Nid::SECP384R1),
        "P-521" => (Curve::P521, Nid::SECP521R1),
        other => return Err(SkipReason::UnsupportedCurve(other.to_owned())),
    };
    let (x, y) = (member(jwk, "x")?, member(jwk, "y")?);
    // Short coordinates (leading zeros dropped) are tolerated; longer ones are not.
    let width = coordinate_len(curve);
    if x.len() > width || y.len() > width {
        return Err(SkipReason::Malformed("coordinate too long"));
    }
    let group = EcGroup::from_curve_name(nid).map_err(|_| SkipReason::Malformed("crv"))?;
    let x = BigNum::from_slice(&x).map_err(|_| SkipReason::Malformed("x"))?;
    let y = BigNum::from_slice(&y).map_err(|_| SkipReason::Malformed("y"))?;
    let key = EcKey::from_public_key_affine_coordinates(&group, &x, &y)
        .map_err(|_| SkipReason::Malformed("point not on curve"))?;
    key.check_key().map_err(|_| SkipReason::Malformed("point not on curve"))?;
    let pkey = PKey::from_ec_key(key).map_err(|_| SkipReason::Malformed("x"))?;
    Ok((KeyKind::Ec(curve), pkey))
}

fn okp_key(jwk: &Map<String, Value>) -> Result<(KeyKind, PKey<openssl::pkey::Public>), SkipReason> {
    let crv = jwk.get("crv").and_then(Value::as_str).ok_or(SkipReason::Malformed("crv"))?;
    let (curve, id) = match crv {
        "Ed25519" => (Curve::Ed25519, Id::ED25519),
        "Ed448" => (Curve::Ed448, Id::ED448),
        // X25519 and X448 are key-agreement curves: encryption, never signatures.
        "X25519" | "X448" => return Err(SkipReason::NotForSigning),
        other => return Err(SkipReason::UnsupportedCurve(other.to_owned())),
    };
    let x = member(jwk, "x")?;
    if x.len() != coordinate_len(curve) {
        return Err(SkipReason::Malformed("x"));
    }
    let pkey = PKey::public_key_from_raw_bytes(&x, id).map_err(|_| SkipReason::Malformed("x"))?;
    Ok((KeyKind::Okp(curve), pkey))
}
