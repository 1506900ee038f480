//! From `Authorization` header values to a parsed, not yet verified, compact JWS.
//!
//! Strictness here is deliberate: one Authorization header, the `Bearer` scheme (any case,
//! RFC 9110 §11.1), a compact JWS of exactly three parts in canonical unpadded base64url
//! (RFC 7515 §7.1, §2), at most [`MAX_TOKEN_BYTES`]. Two parsers that disagree on a token
//! are how signature bypasses happen, so anything ambiguous is rejected, not repaired.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::reason::{AuthReason, AuthRejection};
use crate::jwks::Algorithm;

/// Largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The JOSE header members we act on. Unknown members are ignored; `jku`, `x5u` and `jwk`
/// are never followed, since keys come only from the issuer's configured source.
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
    #[serde(default)]
    enc: Option<Value>,
}

/// A JSON object read with duplicate detection: a second `exp` or `iss` makes parsing fail
/// instead of one copy silently winning, as it would in `serde_json::Map` (RFC 7519 §4
/// allows rejecting duplicates, and two parsers that pick differently is how bypasses start).
struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object without duplicate members")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<StrictObject, M::Error> {
                let mut object = Map::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if object.contains_key(&name) {
                        return Err(serde::de::Error::custom("duplicate member"));
                    }
                    object.insert(name, value);
                }
                Ok(StrictObject(object))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A compact JWS split and decoded; the signature is not checked yet.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers.
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
    /// The header's `alg`, already known to be one we can verify.
    pub alg: Algorithm,
    pub header: Header,
    /// Every claim, unique by name.
    pub claims: Map<String, Value>,
}

fn malformed(description: &str) -> AuthRejection {
    AuthRejection::new(AuthReason::TokenMalformed, description)
}

/// The bearer token from every `Authorization` value of a request.
pub fn bearer_token<'a>(authorization: &[&'a [u8]]) -> Result<&'a [u8], AuthRejection> {
    let value = match authorization {
        [] => {
            return Err(AuthRejection::new(
                AuthReason::TokenMissing,
                "A bearer token is required.",
            ));
        }
        [value] => *value,
        _ => return Err(malformed("The request has more than one Authorization header.")),
    };
    let value = value.trim_ascii();
    let split = value.iter().position(|b| *b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(AuthRejection::new(
            AuthReason::TokenMissing,
            "The Authorization header does not carry a Bearer token.",
        ));
    }
    let token = rest.trim_ascii_start();
    if token.is_empty() {
        return Err(malformed("The Bearer credential is empty."));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("The token is too large."));
    }
    Ok(token)
}

/// Splits and decodes a compact JWS, rejecting anything non-canonical.
pub(crate) fn parse(token: &[u8]) -> Result<Parsed<'_>, AuthRejection> {
    let mut parts = token.split(|b| *b == b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("The token is not a compact JWS of three parts."));
    };
    let signing_len = header.len() + 1 + payload.len();
    let header_json = decode(header, "header")?;
    let payload_json = decode(payload, "payload")?;
    // An empty signature is left for the algorithm check to refuse (`alg: none`) or the
    // signature check to fail, which gives the more precise reason.
    let signature = if signature.is_empty() { Vec::new() } else { decode(signature, "signature")? };
    let header: Header = serde_json::from_slice(&header_json)
        .map_err(|_| malformed("The token header is not a valid JOSE header."))?;
    let alg = algorithm(&header.alg)?;
    if header.enc.is_some() {
        return Err(malformed("Encrypted tokens are not accepted."));
    }
    // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
    if header.crit.is_some() {
        return Err(malformed("The token uses critical header extensions."));
    }
    let StrictObject(claims) = serde_json::from_slice(&payload_json).map_err(|_| {
        malformed("The token payload is not a JSON object with unique claim names.")
    })?;
    let signing_input = &token[..signing_len];
    Ok(Parsed { signing_input, signature, alg, header, claims })
}

/// The token's `alg`, refusing `none` in any spelling and HMAC before anything else.
fn algorithm(name: &str) -> Result<Algorithm, AuthRejection> {
    if name.trim().eq_ignore_ascii_case("none") {
        return Err(AuthRejection::new(
            AuthReason::AlgorithmNotAllowed,
            "Unsigned tokens are not accepted.",
        ));
    }
    if name.get(..2).is_some_and(|prefix| prefix.eq_ignore_ascii_case("HS")) {
        return Err(AuthRejection::new(
            AuthReason::AlgorithmNotAllowed,
            "Symmetric (HMAC) signatures are not accepted.",
        ));
    }
    Algorithm::from_name(name).ok_or_else(|| {
        AuthRejection::new(
            AuthReason::AlgorithmNotAllowed,
            "The token's algorithm is not supported.",
        )
    })
}

/// Strict base64url: the URL-safe alphabet, no padding, zero trailing bits.
fn decode(part: &[u8], what: &str) -> Result<Vec<u8>, AuthRejection> {
    if part.is_empty() {
        return Err(malformed(&format!("The token {what} is empty.")));
    }
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| malformed(&format!("The token {what} is not canonical base64url.")))
}
