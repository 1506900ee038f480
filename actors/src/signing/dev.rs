//! Key generation and development tokens, for `skybridge keys generate` and
//! `skybridge token issue` and for tests that need a signed token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use super::jwk::b64;
use super::{Algorithm, SigningError, SigningKey};

/// Modulus size of generated RSA keys.
const GENERATED_RSA_BITS: u32 = 3072;

/// What a development token says about itself.
#[derive(Debug, Clone)]
pub struct DevToken<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `aud`.
    pub audience: &'a str,
    /// `sub`.
    pub subject: &'a str,
    /// `scope`, space-separated as RFC 8693 writes it; absent means no claim.
    pub scope: Option<&'a str>,
    /// Lifetime: `exp` = `iat` + `ttl`, rounded down to whole seconds.
    pub ttl: Duration,
}

/// Generates a key for `algorithm` and returns its PKCS#8 PEM and public JWK (with `kid`).
pub fn generate_key(algorithm: Algorithm) -> Result<(String, Value), SigningError> {
    let pkey = match algorithm {
        Algorithm::RS256 => PKey::from_rsa(Rsa::generate(GENERATED_RSA_BITS)?)?,
        Algorithm::ES256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        Algorithm::EdDSA => PKey::generate_ed25519()?,
    };
    let key = SigningKey::from_pkey(pkey)?;
    Ok((key.private_pem()?, key.public_jwk().clone()))
}

/// Signs a development token with integer `iat`, `nbf` and `exp` and a random `jti`.
pub fn issue_dev_token(key: &SigningKey, token: &DevToken<'_>) -> Result<String, SigningError> {
    let now = unix_now();
    let mut claims = json!({
        "iss": token.issuer,
        "aud": token.audience,
        "sub": token.subject,
        "iat": now,
        "nbf": now,
        "exp": now + token.ttl.as_secs(),
        "jti": random_jti()?,
    });
    if let (Some(scope), Value::Object(members)) = (token.scope, &mut claims) {
        members.insert("scope".into(), Value::String(scope.to_owned()));
    }
    key.sign_jwt(&claims)
}

/// A random token id: 128 bits from openssl's CSPRNG, base64url.
pub fn random_jti() -> Result<String, SigningError> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(b64(&bytes))
}

/// Seconds since the Unix epoch, the unit of JWT NumericDate claims.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    fn verify(jwk: &Value, token: &str, alg: jsonwebtoken::Algorithm) -> Value {
        let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("jwk parses");
        let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
        let mut validation = Validation::new(alg);
        validation.set_audience(&["api://test"]);
        validation.set_issuer(&["https://issuer.test"]);
        jsonwebtoken::decode::<Value>(token, &key, &validation).expect("verifies").claims
    }

    #[test]
    fn generated_keys_sign_tokens_that_verify_against_their_jwk() {
        for (alg, jwt_alg) in [
            (Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
            (Algorithm::ES256, jsonwebtoken::Algorithm::ES256),
            (Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA),
        ] {
            let (pem, jwk) = generate_key(alg).expect("generates");
            let key = SigningKey::from_pem(pem.as_bytes()).expect("loads");
            assert_eq!(key.algorithm(), alg);
            assert_eq!(jwk["kid"], key.kid());
            assert_eq!(thumbprint_of(&jwk), key.kid());
            let spec = DevToken {
                issuer: "https://issuer.test",
                audience: "api://test",
                subject: "alice",
                scope: Some("orders.read"),
                ttl: Duration::from_secs(600),
            };
            let token = issue_dev_token(&key, &spec).expect("signs");
            let header = jsonwebtoken::decode_header(&token).expect("header");
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
            let claims = verify(&jwk, &token, jwt_alg);
            assert_eq!(claims["sub"], "alice");
            assert_eq!(claims["scope"], "orders.read");
            let iat = claims["iat"].as_u64().expect("integer iat");
            assert_eq!(claims["exp"].as_u64(), Some(iat + 600));
            assert_eq!(claims["nbf"].as_u64(), Some(iat));
            assert_eq!(claims["jti"].as_str().map(str::len), Some(22));
            assert!(!format!("{key:?}").contains("PRIVATE"));
        }
    }

    fn thumbprint_of(jwk: &Value) -> String {
        super::super::thumbprint(jwk).expect("thumbprint")
    }

    #[test]
    fn weak_or_foreign_keys_are_refused() {
        let small = PKey::from_rsa(Rsa::generate(1024).expect("rsa")).expect("pkey");
        let pem = small.private_key_to_pem_pkcs8().expect("pem");
        let err = SigningKey::from_pem(&pem).expect_err("1024-bit RSA");
        assert!(err.to_string().contains("1024 bits"), "{err}");

        let group = EcGroup::from_curve_name(Nid::SECP384R1).expect("group");
        let p384 = PKey::from_ec_key(EcKey::generate(&group).expect("ec")).expect("pkey");
        let pem = p384.private_key_to_pem_pkcs8().expect("pem");
        let err = SigningKey::from_pem(&pem).expect_err("P-384");
        assert!(err.to_string().contains("P-256"), "{err}");

        let err = SigningKey::from_pem(b"-----BEGIN NOTHING-----").expect_err("garbage");
        assert!(err.to_string().starts_with("not a PEM private key"), "{err}");
        assert!("HS256".parse::<Algorithm>().is_err());
    }
}
