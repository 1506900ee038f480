//! The fake Google issuer: signs ID tokens with a test RSA key and verifies them against its
//! own JWKS the way an upstream would (signature, `iss`, `aud`, `exp`).

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{Value, json};
use skybridge_actors::signing::{SigningKey, random_jti, unix_now};

pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

pub struct Issuer {
    key: SigningKey,
}

impl Issuer {
    pub fn new() -> Self {
        let pem = PKey::from_rsa(Rsa::generate(2048).expect("rsa"))
            .expect("pkey")
            .private_key_to_pem_pkcs8()
            .expect("pem");
        Self { key: SigningKey::from_pem(&pem).expect("issuer key") }
    }

    /// A Google-style ID token for `audience` living `lifetime`.
    pub fn id_token(&self, audience: &str, email: &str, lifetime: Duration) -> String {
        let now = unix_now();
        let claims = json!({
            "iss": GOOGLE_ISSUER,
            "aud": audience,
            "azp": "1234567890",
            "sub": "1234567890",
            "email": email,
            "email_verified": true,
            "iat": now,
            "exp": now + lifetime.as_secs(),
            "jti": random_jti().expect("jti"),
        });
        self.key.sign_jwt(&claims).expect("sign")
    }

    /// An Entra-style access token, the subject token of the Azure flow.
    pub fn azure_token(&self, resource: &str) -> String {
        let now = unix_now();
        let claims = json!({
            "iss": "https://sts.windows.net/tenant/",
            "aud": resource,
            "sub": "managed-identity",
            "iat": now,
            "exp": now + 3600,
        });
        self.key.sign_jwt(&claims).expect("sign")
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [self.key.public_jwk()]})
    }

    /// Verifies `token` as an upstream would; panics with the reason otherwise.
    pub fn verify(&self, token: &str, audience: &str) -> Value {
        verify_with_jwks(&self.jwks(), token, audience, GOOGLE_ISSUER)
            .unwrap_or_else(|err| panic!("token does not verify: {err}"))
    }
}

/// Verifies `token` against `jwks` (kid lookup, signature, `iss`, `aud`, `exp`, no leeway).
pub fn verify_with_jwks(
    jwks: &Value,
    token: &str,
    audience: &str,
    issuer: &str,
) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|err| err.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|err| err.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or_else(|| format!("kid {kid} is not published"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|err| err.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|err| err.to_string())
}

/// Decodes a JWT's header and claims without verifying (for checking what the minter sent).
pub fn decode_unverified(token: &str) -> (Value, Value) {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWT");
    let decode = |part: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64");
        serde_json::from_slice(&bytes).expect("json")
    };
    (decode(parts[0]), decode(parts[1]))
}
