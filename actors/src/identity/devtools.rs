//! Offline signing for developers and load tests: generate a key pair with its JWKS, and
//! sign tokens a `jwks_file` issuer accepts. Backs `skybridge keys generate` and
//! `skybridge token issue`; tests use [`sign_compact`] to craft hostile tokens too.
//!
//! Key ids are RFC 7638 JWK thumbprints, so a token signed with a PEM key always names the
//! `kid` the generated JWKS publishes for it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Name of the private key file `write_key_pair` creates.
pub const PRIVATE_KEY_FILE: &str = "signing-key.pem";
/// Name of the JWKS file `write_key_pair` creates or extends.
pub const JWKS_FILE: &str = "jwks.json";

/// A new key pair.
pub struct GeneratedKey {
    /// The private key, PKCS#8 PEM.
    pub private_pem: Vec<u8>,
    /// The public key as a JWK with `kid`, `alg` and `use`.
    pub jwk: Value,
    /// The key id (RFC 7638 thumbprint).
    pub kid: String,
}

/// What a development token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `sub`.
    pub subject: String,
    /// `scope`, space separated; omitted when empty.
    pub scopes: Vec<String>,
    /// Lifetime: `exp` = now + ttl.
    pub ttl: Duration,
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

/// Writes `signing-key.pem` (mode 0600) into `dir` and adds the public key to `jwks.json`
/// there (created if missing), returning both paths. Never overwrites a private key.
pub fn write_key_pair(dir: &Path, alg: Algorithm) -> Result<(PathBuf, PathBuf), DevToolError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DevToolError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key_path = dir.join(PRIVATE_KEY_FILE);
    let jwks_path = dir.join(JWKS_FILE);
    if key_path.exists() {
        return Err(DevToolError::Exists(key_path));
    }
    let generated = generate_key(alg)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&key_path).map_err(io(&key_path))?;
    file.write_all(&generated.private_pem).map_err(io(&key_path))?;
    let mut keys = match std::fs::read(&jwks_path) {
        Ok(text) => serde_json::from_slice::<Value>(&text)?
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    keys.push(generated.jwk);
    let text = serde_json::to_vec_pretty(&json!({ "keys": keys }))?;
    std::fs::write(&jwks_path, text).map_err(io(&jwks_path))?;
    Ok((key_path, jwks_path))
}

/// Signs a development token with a PEM private key; the algorithm follows the key (RSA
/// RS256, P-256 ES256, Ed25519 EdDSA) and `kid` is its thumbprint.
pub fn issue_token(private_pem: &[u8], request: &TokenRequest) -> Result<String, DevToolError> {
    let key = PKey::private_key_from_pem(private_pem).map_err(|_| DevToolError::BadKey)?;
    let alg = match key.id() {
        Id::RSA if key.bits() >= 2048 => Algorithm::Rs256,
        Id::EC if key.ec_key()?.group().curve_name() == Some(Nid::X9_62_PRIME256V1) => {
            Algorithm::Es256
        }
        Id::ED25519 => Algorithm::EdDsa,
        _ => return Err(DevToolError::BadKey),
    };
    let (_, kid) = public_jwk(&key, alg)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut claims = json!({
        "iss": request.issuer,
        "aud": request.audience,
        "sub": request.subject,
        "iat": now,
        "nbf": now,
        "exp": now + request.ttl.as_secs(),
        "jti": format!("{:032x}", rand::random::<u128>()),
    });
    if !request.scopes.is_empty() {
        claims["scope"] = Value::String(request.scopes.join(" "));
    }
    sign_compact(&key, &json!({ "alg": alg.name(), "typ": "JWT", "kid": kid }), &claims)
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
        _ => return Err(DevToolError::BadKey),
    };
    let kid = b64(&hash(MessageDigest::sha256(), canonical.as_bytes())?);
    jwk["kid"] = Value::String(kid.clone());
    jwk["alg"] = Value::String(alg.name().to_owned());
    jwk["use"] = Value::String("sig".to_owned());
    Ok((jwk, kid))
}
