//! Public JWKs (RFC 7517) and their RFC 7638 thumbprints.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::SigningError;

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over the JSON object of the key type's
/// required members in lexicographic order without whitespace, base64url-encoded.
///
/// Used as the `kid` so that the same key has the same id wherever it is loaded.
pub fn thumbprint(jwk: &Value) -> Result<String, SigningError> {
    let kty = member(jwk, "kty")?;
    let required: &[&'static str] = match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        other => return Err(SigningError::Unsupported(format!("key type {other:?}"))),
    };
    // A BTreeMap serializes its keys in order and serde_json writes no whitespace, which is
    // exactly the canonical form; the members are base64url or short names, never escaped.
    let mut canonical = BTreeMap::new();
    for name in required {
        canonical.insert(*name, member(jwk, name)?);
    }
    let digest = Sha256::digest(serde_json::to_vec(&canonical)?);
    Ok(URL_SAFE_NO_PAD.encode(digest))
}

fn member<'a>(jwk: &'a Value, name: &'static str) -> Result<&'a str, SigningError> {
    jwk.get(name).and_then(Value::as_str).ok_or(SigningError::JwkMember(name))
}

/// Base64url without padding, as JOSE wants it.
pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 7638 section 3.1.
    #[test]
    fn matches_the_rfc_7638_example() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": concat!(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD",
                "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0",
                "h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9",
                "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1",
                "jF44-csFCur-kEgU8awapJzKnqDKgw"
            ),
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        });
        assert_eq!(
            thumbprint(&jwk).expect("thumbprint"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn missing_member_and_unknown_type_are_named() {
        let err = thumbprint(&serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a"}));
        assert!(matches!(err, Err(SigningError::JwkMember("y"))));
        let err = thumbprint(&serde_json::json!({"kty": "oct", "k": "a"}));
        assert!(matches!(err, Err(SigningError::Unsupported(_))));
    }
}
