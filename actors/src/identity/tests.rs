//! Hostile and odd tokens against a real [`Verifier`] with `jwks_file` issuers: every case
//! must end in a precise rejection, never a panic.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openssl::pkey::{PKey, Private};
use serde_json::{Value, json};
use skybridge_shared::config::{ClaimMatcher, Config, RequiredAuth};
use skybridge_shared::health::{Health, HealthState};

use super::devtools::{generate_key, public_jwk, sign_compact};
use super::*;
use crate::jwks::Algorithm;

const ISS: &str = "https://issuer.test";
const AUD: &str = "api://orders";
const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const OTHER_TENANT: &str = "22222222-2222-2222-2222-222222222222";
const ENTRA_V2: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

struct Key {
    pkey: PKey<Private>,
    kid: String,
    alg: Algorithm,
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    verifier: Verifier,
    health: Health,
    rsa: Key,
    ec: Key,
    ed: Key,
    entra: Key,
}

fn key(alg: Algorithm) -> Key {
    let generated = generate_key(alg).unwrap();
    let pkey = PKey::private_key_from_pem(&generated.private_pem).unwrap();
    Key { pkey, kid: generated.kid, alg }
}

fn jwk(key: &Key, extra: Value) -> Value {
    let (mut jwk, _) = public_jwk(&key.pkey, key.alg).unwrap();
    jwk.as_object_mut().unwrap().remove("alg");
    for (name, value) in extra.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

const CONFIG: &str = r#"
[[issuers]]
name = "dev"
issuer = "https://issuer.test"
jwks_file = "dev.json"
audiences = ["api://orders", "api://other"]
algorithms = ["RS256", "PS256", "ES256", "EdDSA"]

[[issuers]]
name = "entra"
issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
additional_issuers = ["https://sts.windows.net/{tenantid}/"]
jwks_file = "entra.json"
audiences = ["api://orders"]
algorithms = ["RS256"]
tenants = ["11111111-1111-1111-1111-111111111111"]
leeway = "30s"
"#;

fn setup() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (rsa, ec, ed, entra) = (
        key(Algorithm::Rs256),
        key(Algorithm::Es256),
        key(Algorithm::EdDsa),
        key(Algorithm::Rs256),
    );
    let dev = json!({"keys": [jwk(&rsa, json!({})), jwk(&ec, json!({})), jwk(&ed, json!({}))]});
    std::fs::write(dir.path().join("dev.json"), dev.to_string()).unwrap();
    let entra_set = json!({"keys": [jwk(&entra, json!({"issuer": ENTRA_V2}))]});
    std::fs::write(dir.path().join("entra.json"), entra_set.to_string()).unwrap();
    let mut config: Config = toml::from_str(CONFIG).unwrap();
    config.base_dir = dir.path().to_owned();
    let health = Health::default();
    let mut options = VerifierOptions::default();
    options.tuning.file_poll = Duration::from_millis(50);
    let verifier = Verifier::start_with(&config, health.clone(), options).unwrap();
    let path = dir.path().to_owned();
    Fixture { _dir: dir, dir: path, verifier, health, rsa, ec, ed, entra }
}

fn claims() -> Value {
    let now = now() as u64;
    json!({"iss": ISS, "aud": AUD, "sub": "alice", "azp": "client-1", "iat": now, "exp": now + 300,
           "scp": "orders.read orders.write", "roles": ["admin"], "department": "sales"})
}

fn sign(key: &Key, claims: &Value) -> String {
    sign_compact(&key.pkey, &json!({"alg": key.alg.name(), "kid": key.kid}), claims).unwrap()
}

fn with(mut base: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            base.as_object_mut().unwrap().remove(name);
        } else {
            base[name] = value.clone();
        }
    }
    base
}

impl Fixture {
    async fn check(
        &self,
        header: &str,
        policy: &RequiredAuth,
    ) -> Result<Arc<Identity>, AuthRejection> {
        let result = self.verifier.authenticate(&[header.as_bytes()], policy).await;
        if let Err(rejection) = &result {
            // A description never repeats any part of the presented credential.
            for part in header.split(['.', ' ']).filter(|p| p.len() > 8) {
                assert!(!rejection.description.contains(part), "{rejection:?} leaks the token");
            }
        }
        result
    }

    async fn reason(&self, token: &str) -> AuthReason {
        self.check(&format!("Bearer {token}"), &RequiredAuth::default()).await.unwrap_err().reason
    }

    async fn accepted(&self, token: &str) -> Arc<Identity> {
        self.check(&format!("Bearer {token}"), &RequiredAuth::default()).await.unwrap()
    }
}

#[actix_rt::test]
async fn valid_tokens_of_every_algorithm_pass_and_build_the_identity() {
    let fx = setup();
    for key in [&fx.rsa, &fx.ec, &fx.ed] {
        let identity = fx.accepted(&sign(key, &claims())).await;
        assert_eq!(identity.subject, "alice");
        assert_eq!(identity.issuer_name, "dev");
        assert_eq!(identity.client_id.as_deref(), Some("client-1"));
        assert_eq!(identity.scopes, ["orders.read", "orders.write"]);
        assert_eq!(identity.roles, ["admin"]);
    }
    let ps = Key { pkey: fx.rsa.pkey.clone(), kid: fx.rsa.kid.clone(), alg: Algorithm::Ps256 };
    fx.accepted(&sign(&ps, &claims())).await;
    assert_eq!(fx.health.snapshot()["issuer:dev"].state, HealthState::Ready);
}

#[actix_rt::test]
async fn authorization_headers_are_checked_strictly() {
    let fx = setup();
    let token = sign(&fx.rsa, &claims());
    let policy = RequiredAuth::default();
    let none: [&[u8]; 0] = [];
    let missing = fx.verifier.authenticate(&none, &policy).await.unwrap_err();
    assert_eq!((missing.reason, missing.reason.status()), (AuthReason::TokenMissing, 401));
    let header = format!("Bearer {token}");
    let two = [header.as_bytes(), header.as_bytes()];
    let doubled = fx.verifier.authenticate(&two, &policy).await.unwrap_err();
    assert_eq!(doubled.reason, AuthReason::TokenMalformed);
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        fx.check(&format!("{scheme}  {token}"), &policy).await.unwrap();
    }
    let basic = fx.check("Basic YWxhZGRpbjpvcGVuc2VzYW1l", &policy).await.unwrap_err();
    assert_eq!(basic.reason, AuthReason::TokenMissing);
    let empty = fx.check("Bearer ", &policy).await.unwrap_err();
    assert_eq!(empty.reason, AuthReason::TokenMalformed);
    let binary = [b"Bearer \xff\xfe".as_slice()];
    let garbage = fx.verifier.authenticate(&binary, &policy).await.unwrap_err();
    assert_eq!(garbage.reason, AuthReason::TokenMalformed);
}

#[actix_rt::test]
async fn non_canonical_encodings_are_malformed() {
    let fx = setup();
    let token = sign(&fx.rsa, &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // RS256 signatures are 256 bytes: the last character carries 4 unused bits, zero in
    // canonical form; setting the lowest one keeps the bytes but breaks canonicity.
    let last = ALPHABET.find(signature.chars().last().unwrap()).unwrap();
    let nonzero_bits = ALPHABET.chars().nth(last | 1).unwrap();
    let cases = [
        format!("{token}="),
        format!("{input}.{}{nonzero_bits}", &signature[..signature.len() - 1]),
        token.replacen('-', "+", 1).replacen('_', "/", 1),
        input.to_string(),
        format!("{token}.extra.parts"),
        format!("a.{token}"),
        ".".repeat(2),
        "x".repeat(MAX_TOKEN_BYTES + 1),
    ];
    for case in cases {
        if case == token {
            continue;
        }
        assert_eq!(fx.reason(&case).await, AuthReason::TokenMalformed, "{case:.40}");
    }
}

#[actix_rt::test]
async fn unsigned_hmac_and_unfit_algorithms_are_refused() {
    let fx = setup();
    let body = serde_json::to_vec(&claims()).unwrap();
    let payload = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, body);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!(r#"{{"alg":"{alg}"}}"#),
        );
        assert_eq!(
            fx.reason(&format!("{header}.{payload}.")).await,
            AuthReason::AlgorithmNotAllowed
        );
    }
    // HS256 keyed with the issuer's public key (the classic confusion attack): an HMAC over
    // the same input, whatever the secret, must never be considered.
    let hs_header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!(r#"{{"alg":"HS256","kid":"{}"}}"#, fx.rsa.kid),
    );
    let pem = fx.rsa.pkey.public_key_to_pem().unwrap();
    let input = format!("{hs_header}.{payload}");
    let hmac = PKey::hmac(&pem).unwrap();
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &hmac).unwrap();
    let mac = signer.sign_oneshot_to_vec(input.as_bytes()).unwrap();
    let mac = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac);
    assert_eq!(fx.reason(&format!("{input}.{mac}")).await, AuthReason::AlgorithmNotAllowed);
    // The RFC 7520 HS256 vector, re-issued for our issuer's claims, fails the same way.
    let vector: Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/oidc/rfc7520_jws_4_4.hmac-sha2_integrity_protection.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let compact = vector["output"]["compact"].as_str().unwrap();
    assert_eq!(fx.reason(compact).await, AuthReason::AlgorithmNotAllowed);
    // ES256 header on an RSA key id: the algorithm does not fit the key.
    let confused =
        sign_compact(&fx.ec.pkey, &json!({"alg": "ES256", "kid": fx.rsa.kid}), &claims()).unwrap();
    assert_eq!(fx.reason(&confused).await, AuthReason::AlgorithmNotAllowed);
    // PS256 is verifiable but not allowed for the entra issuer (RS256 only).
    let entra_ps =
        Key { pkey: fx.entra.pkey.clone(), kid: fx.entra.kid.clone(), alg: Algorithm::Ps256 };
    let entra_claims =
        with(claims(), json!({"iss": ENTRA_V2.replace("{tenantid}", TENANT), "tid": TENANT}));
    assert_eq!(fx.reason(&sign(&entra_ps, &entra_claims)).await, AuthReason::AlgorithmNotAllowed);
    assert_eq!(
        fx.reason(
            &sign_compact(
                &fx.rsa.pkey,
                &json!({"alg": "RS256", "kid": fx.rsa.kid, "crit": ["exp"]}),
                &claims()
            )
            .unwrap()
        )
        .await,
        AuthReason::TokenMalformed
    );
}

#[actix_rt::test]
async fn tampering_and_unknown_keys_are_caught() {
    let fx = setup();
    let token = sign(&fx.rsa, &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut flipped: Vec<char> = signature.chars().collect();
    flipped[5] = if flipped[5] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    assert_eq!(fx.reason(&format!("{input}.{flipped}")).await, AuthReason::SignatureInvalid);
    let other = sign(&fx.rsa, &with(claims(), json!({"sub": "mallory"})));
    let (forged_input, _) = other.rsplit_once('.').unwrap();
    assert_eq!(
        fx.reason(&format!("{forged_input}.{signature}")).await,
        AuthReason::SignatureInvalid
    );
    assert_eq!(fx.reason(&format!("{input}.")).await, AuthReason::SignatureInvalid);
    let stranger = key(Algorithm::Rs256);
    assert_eq!(fx.reason(&sign(&stranger, &claims())).await, AuthReason::KeyUnknown);
    // Without a kid the issuer's keys are tried; a stranger's signature still fails.
    let no_kid = |k: &Key| sign_compact(&k.pkey, &json!({"alg": k.alg.name()}), &claims()).unwrap();
    fx.accepted(&no_kid(&fx.ec)).await;
    assert_eq!(fx.reason(&no_kid(&stranger)).await, AuthReason::SignatureInvalid);
    let long_kid =
        sign_compact(&fx.rsa.pkey, &json!({"alg": "RS256", "kid": "k".repeat(300)}), &claims())
            .unwrap();
    assert_eq!(fx.reason(&long_kid).await, AuthReason::TokenMalformed);
}

#[actix_rt::test]
async fn time_claims_follow_the_leeway_and_numeric_dates() {
    let fx = setup();
    let now = now();
    let cases = [
        (json!({"exp": null}), Some(AuthReason::TokenMalformed)),
        (json!({"exp": (now as u64 + 60).to_string()}), Some(AuthReason::TokenMalformed)),
        (json!({"exp": true}), Some(AuthReason::TokenMalformed)),
        (json!({"iat": "yesterday"}), Some(AuthReason::TokenMalformed)),
        (json!({"exp": now - 61.0}), Some(AuthReason::TokenExpired)),
        (json!({"exp": now - 30.0}), None),
        (json!({"exp": now + 10.5}), None),
        (json!({"nbf": now + 120.0}), Some(AuthReason::TokenNotYetValid)),
        (json!({"nbf": now + 30.25}), None),
        (json!({"nbf": "soon"}), Some(AuthReason::TokenMalformed)),
    ];
    for (change, expected) in cases {
        let token = sign(&fx.rsa, &with(claims(), change.clone()));
        let result = fx.check(&format!("Bearer {token}"), &RequiredAuth::default()).await;
        assert_eq!(result.err().map(|r| r.reason), expected, "{change}");
    }
}

#[actix_rt::test]
async fn issuer_and_audience_must_match() {
    let fx = setup();
    let cases = [
        (json!({"iss": "https://issuer.test/"}), Some(AuthReason::IssuerUnknown)),
        (json!({"iss": null}), Some(AuthReason::TokenMalformed)),
        (json!({"iss": 7}), Some(AuthReason::TokenMalformed)),
        (json!({"aud": "api://else"}), Some(AuthReason::AudienceMismatch)),
        (json!({"aud": null}), Some(AuthReason::AudienceMismatch)),
        (json!({"aud": ["api://else", "api://other"]}), None),
        (json!({"aud": ["api://else"]}), Some(AuthReason::AudienceMismatch)),
        (json!({"aud": 12}), Some(AuthReason::TokenMalformed)),
        (json!({"sub": null, "azp": null}), Some(AuthReason::TokenMalformed)),
    ];
    for (change, expected) in cases {
        let token = sign(&fx.rsa, &with(claims(), change.clone()));
        let result = fx.check(&format!("Bearer {token}"), &RequiredAuth::default()).await;
        assert_eq!(result.err().map(|r| r.reason), expected, "{change}");
    }
    // A payload repeating a registered claim is ambiguous and refused.
    let header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!(r#"{{"alg":"RS256","kid":"{}"}}"#, fx.rsa.kid),
    );
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"a","exp":1,"exp":{}}}"#, now() as u64 + 60),
    );
    assert_eq!(fx.reason(&format!("{header}.{payload}.AAAA")).await, AuthReason::TokenMalformed);
}

#[actix_rt::test]
async fn entra_tenants_expand_only_with_the_tokens_own_tid() {
    let fx = setup();
    let v2 = ENTRA_V2.replace("{tenantid}", TENANT);
    let v1 = format!("https://sts.windows.net/{TENANT}/");
    let ok = |iss: &str| with(claims(), json!({"iss": iss, "tid": TENANT}));
    let identity = fx.accepted(&sign(&fx.entra, &ok(&v2))).await;
    assert_eq!(
        (identity.issuer_name.as_str(), identity.tenant.as_deref()),
        ("entra", Some(TENANT))
    );
    fx.accepted(&sign(&fx.entra, &ok(&v1))).await;
    let upper = with(
        ok(&v2),
        json!({
            "tid": TENANT.to_uppercase(),
            "iss": ENTRA_V2.replace("{tenantid}", &TENANT.to_uppercase()),
        }),
    );
    fx.accepted(&sign(&fx.entra, &upper)).await;
    let other = ENTRA_V2.replace("{tenantid}", OTHER_TENANT);
    let cases = [
        (json!({"iss": other, "tid": OTHER_TENANT}), AuthReason::TenantNotAllowed),
        (json!({"iss": other, "tid": TENANT}), AuthReason::IssuerUnknown),
        (json!({"iss": v2, "tid": null}), AuthReason::IssuerUnknown),
        (json!({"iss": ENTRA_V2, "tid": null}), AuthReason::IssuerUnknown),
        (json!({"iss": v2, "tid": 5}), AuthReason::TokenMalformed),
    ];
    for (change, expected) in cases {
        let token = sign(&fx.entra, &with(ok(&v2), change.clone()));
        assert_eq!(fx.reason(&token).await, expected, "{change}");
    }
    // The entra key declares an Entra issuer: it cannot vouch for the dev issuer's tokens,
    // and the dev issuer's keys cannot sign Entra tokens.
    let dev_set = json!({"keys": [jwk(&fx.entra, json!({"issuer": "https://elsewhere.test"}))]});
    std::fs::write(fx.dir.join("entra.json"), dev_set.to_string()).unwrap();
    let reloaded = wait_for(|| {
        fx.verifier
            .keys("entra")
            .is_some_and(|k| k.keys()[0].issuer.as_deref() == Some("https://elsewhere.test"))
    })
    .await;
    assert!(reloaded, "the entra file was not reloaded");
    assert_eq!(fx.reason(&sign(&fx.entra, &ok(&v2))).await, AuthReason::IssuerUnknown);
    let dev_key_entra_kid =
        sign_compact(&fx.rsa.pkey, &json!({"alg": "RS256", "kid": fx.rsa.kid}), &ok(&v2)).unwrap();
    assert_eq!(fx.reason(&dev_key_entra_kid).await, AuthReason::KeyUnknown);
}

async fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[actix_rt::test]
async fn route_policies_check_issuers_scopes_roles_and_claims() {
    let fx = setup();
    let token = format!("Bearer {}", sign(&fx.rsa, &claims()));
    let policy = |issuers: &[&str], scopes: &[&str], roles: &[&str]| RequiredAuth {
        issuers: issuers.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        ..RequiredAuth::default()
    };
    fx.check(&token, &policy(&["dev"], &["orders.read"], &["admin"])).await.unwrap();
    let wrong_issuer = fx.check(&token, &policy(&["entra"], &[], &[])).await.unwrap_err();
    assert_eq!(wrong_issuer.reason, AuthReason::IssuerUnknown);
    let scope =
        fx.check(&token, &policy(&[], &["orders.read", "orders.delete"], &[])).await.unwrap_err();
    assert_eq!((scope.reason, scope.reason.status()), (AuthReason::InsufficientScope, 403));
    assert_eq!(scope.required_scope.as_deref(), Some("orders.read orders.delete"));
    assert_eq!(scope.reason.bearer_error(), Some("insufficient_scope"));
    let role = fx.check(&token, &policy(&[], &[], &["auditor"])).await.unwrap_err();
    assert_eq!(role.reason, AuthReason::InsufficientRole);
    let mut claims_policy = RequiredAuth::default();
    claims_policy.claims.insert("department".into(), ClaimMatcher::Equals("sales".into()));
    claims_policy
        .claims
        .insert("roles".into(), ClaimMatcher::OneOf(vec!["x".into(), "admin".into()]));
    fx.check(&token, &claims_policy).await.unwrap();
    claims_policy.claims.insert("department".into(), ClaimMatcher::OneOf(vec!["hr".into()]));
    let claim = fx.check(&token, &claims_policy).await.unwrap_err();
    assert_eq!((claim.reason, claim.reason.status()), (AuthReason::ClaimMismatch, 403));
    // `scope` as an array and `scp` as a string both count.
    let array = sign(&fx.rsa, &with(claims(), json!({"scp": null, "scope": ["orders.read"]})));
    fx.check(&format!("Bearer {array}"), &policy(&[], &["orders.read"], &[])).await.unwrap();
}

#[actix_rt::test]
async fn verified_tokens_are_cached_only_while_their_key_is_trusted() {
    let fx = setup();
    let token = sign(&fx.rsa, &claims());
    let first = fx.accepted(&token).await;
    assert_eq!(fx.verifier.cached_tokens(), 1);
    let second = fx.accepted(&token).await;
    assert!(Arc::ptr_eq(&first, &second), "the second call is a cache hit");
    let bad = sign(&fx.rsa, &with(claims(), json!({"aud": "api://else"})));
    assert_eq!(fx.reason(&bad).await, AuthReason::AudienceMismatch);
    assert_eq!(fx.verifier.cached_tokens(), 1, "failures are not cached");
    // Drop the RSA key from the file: the cached verification stops counting.
    let remaining = json!({"keys": [jwk(&fx.ec, json!({}))]});
    std::fs::write(fx.dir.join("dev.json"), remaining.to_string()).unwrap();
    assert!(wait_for(|| fx.verifier.keys("dev").is_some_and(|k| k.keys().len() == 1)).await);
    assert_eq!(fx.reason(&token).await, AuthReason::KeyUnknown);
    // A broken file keeps the last good keys and reports degraded readiness.
    std::fs::write(fx.dir.join("dev.json"), "{ not json").unwrap();
    assert!(wait_for(|| fx.health.snapshot()["issuer:dev"].state == HealthState::Degraded).await);
    fx.accepted(&sign(&fx.ec, &claims())).await;
}

#[test]
fn reasons_have_stable_names_and_statuses() {
    assert_eq!(AuthReason::TokenMissing.as_str(), "token_missing");
    assert_eq!(AuthReason::TokenMissing.bearer_error(), Some("invalid_token"));
    assert_eq!(AuthReason::SignatureInvalid.status(), 401);
    assert_eq!(AuthReason::TenantNotAllowed.as_str(), "tenant_not_allowed");
    assert_eq!(AuthReason::KeysUnavailable.status(), 503);
    assert_eq!(AuthReason::KeysUnavailable.bearer_error(), None);
    assert_eq!(AuthReason::InsufficientScope.to_string(), "insufficient_scope");
}

/// The tokens `skybridge token issue` signs (with [`crate::signing`]) pass the verifier for a
/// `jwks_file` issuer holding the keys `skybridge keys generate` publishes.
#[actix_rt::test]
async fn tokens_from_the_cli_signer_pass_a_jwks_file_issuer() {
    use crate::signing::{self, DevToken, SigningKey};
    for alg in [signing::Algorithm::RS256, signing::Algorithm::ES256, signing::Algorithm::EdDSA] {
        let dir = tempfile::tempdir().unwrap();
        let (pem, jwk) = signing::generate_key(alg).unwrap();
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
        let toml = format!(
            "[[issuers]]\nname = \"dev\"\nissuer = \"{ISS}\"\njwks_file = \"{}\"\n\
             audiences = [\"{AUD}\"]\n",
            jwks_path.display()
        );
        let config: Config = toml::from_str(&toml).unwrap();
        let verifier = Verifier::start(&config, Health::default()).unwrap();
        let key = SigningKey::from_pem(pem.as_bytes()).unwrap();
        let request = DevToken {
            issuer: ISS,
            audience: AUD,
            subject: "dev-user",
            scope: Some("orders.read"),
            ttl: Duration::from_secs(600),
        };
        let token = signing::issue_dev_token(&key, &request).unwrap();
        let header = format!("Bearer {token}");
        let policy = RequiredAuth { scopes: vec!["orders.read".into()], ..RequiredAuth::default() };
        let identity = verifier.authenticate(&[header.as_bytes()], &policy).await.unwrap();
        assert_eq!(identity.subject, "dev-user", "{alg:?}");
    }
}
