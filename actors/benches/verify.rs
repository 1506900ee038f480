//! Validation cost: a verified-token cache hit, and cold RS256 / ES256 verification next to
//! the crypto backend's raw signature check of the same token.
//!
//! Targets: a cache hit under 2 µs; a cold verification within 1.3× of the raw check.
//! Run with `cargo bench -p skybridge-actors --bench verify`.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use serde_json::json;
use skybridge_actors::identity::devtools::{generate_key, public_jwk, sign_compact};
use skybridge_actors::identity::{Verifier, VerifierOptions};
use skybridge_actors::jwks::Algorithm;
use skybridge_shared::config::{Config, RequiredAuth};
use skybridge_shared::health::Health;

struct Setup {
    _dir: tempfile::TempDir,
    _system: actix_rt::SystemRunner,
    cached: Verifier,
    cold: Verifier,
    keys: Vec<(Algorithm, PKey<Private>, String)>,
}

fn setup() -> Setup {
    let keys: Vec<_> = [Algorithm::Rs256, Algorithm::Es256]
        .into_iter()
        .map(|alg| {
            let generated = generate_key(alg).expect("key");
            let pkey = PKey::private_key_from_pem(&generated.private_pem).expect("pem");
            (alg, pkey, generated.kid)
        })
        .collect();
    let jwks: Vec<_> =
        keys.iter().map(|(alg, pkey, _)| public_jwk(pkey, *alg).expect("jwk").0).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("jwks.json"), json!({ "keys": jwks }).to_string())
        .expect("write jwks");
    let mut config: Config = toml::from_str(
        r#"[[issuers]]
name = "bench"
issuer = "https://issuer.bench"
jwks_file = "jwks.json"
audiences = ["api://bench"]
"#,
    )
    .expect("config");
    config.base_dir = dir.path().to_owned();
    let system = actix_rt::System::new();
    let (cached, cold) = system.block_on(async {
        let cached = Verifier::start(&config, Health::default()).expect("verifier");
        let options = VerifierOptions { cache_entries: 0, ..VerifierOptions::default() };
        let cold = Verifier::start_with(&config, Health::default(), options).expect("verifier");
        // Let the actors start while the runtime runs.
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
        (cached, cold)
    });
    Setup { _dir: dir, _system: system, cached, cold, keys }
}

fn token(alg: Algorithm, pkey: &PKey<Private>, kid: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // A realistic access token: about 900 bytes with scopes, roles and ids.
    let claims = json!({
        "iss": "https://issuer.bench", "aud": "api://bench",
        "sub": "8f1c5a8e-1b7e-4f0e-9c55-0d2f8c1e7a11",
        "azp": "0b6f1a55-64c0-4d4e-8d64-0f6a1d3e9b27",
        "tid": "4a7c9e1f-2b3d-4c5e-8f70-1a2b3c4d5e6f",
        "exp": now + 3600, "iat": now, "nbf": now, "jti": "a4c7e1f0b2d34e5f8a9b0c1d2e3f4a5b",
        "scp": "orders.read orders.write inventory.read", "roles": ["Orders.Admin", "Reader"],
        "name": "Benchmark Service Principal", "ver": "2.0",
    });
    sign_compact(pkey, &json!({"alg": alg.name(), "typ": "JWT", "kid": kid}), &claims)
        .expect("sign")
}

fn raw_check(alg: Algorithm, pkey: &PKey<Private>, token: &str) -> impl Fn() -> bool {
    let public = PKey::public_key_from_der(&pkey.public_key_to_der().expect("der")).expect("pub");
    let (input, signature) = token.rsplit_once('.').expect("compact");
    let input = input.as_bytes().to_vec();
    let mut signature = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    if alg == Algorithm::Es256 {
        // The backend verifies DER; the conversion from JOSE R || S is done once, outside.
        let r = BigNum::from_slice(&signature[..32]).expect("r");
        let s = BigNum::from_slice(&signature[32..]).expect("s");
        signature = EcdsaSig::from_private_components(r, s).expect("sig").to_der().expect("der");
    }
    move || {
        let mut verifier =
            openssl::sign::Verifier::new(MessageDigest::sha256(), &public).expect("verifier");
        verifier.verify_oneshot(&signature, &input).expect("verify")
    }
}

fn authenticate(verifier: &Verifier, header: &[u8], policy: &RequiredAuth) -> bool {
    // Nothing awaits on these paths (known kid), so one poll completes the future.
    let result = verifier.authenticate(&[header], policy).now_or_never();
    matches!(result, Some(Ok(_)))
}

fn benches(c: &mut Criterion) {
    let setup = setup();
    let policy = RequiredAuth { scopes: vec!["orders.read".to_owned()], ..RequiredAuth::default() };
    for (alg, pkey, kid) in &setup.keys {
        let token = token(*alg, pkey, kid);
        let header = format!("Bearer {token}");
        let name = alg.name();
        assert!(authenticate(&setup.cached, header.as_bytes(), &policy), "{name} token verifies");
        assert!(authenticate(&setup.cold, header.as_bytes(), &policy), "{name} token verifies");
        if *alg == Algorithm::Rs256 {
            c.bench_function("cache_hit", |b| {
                b.iter(|| authenticate(&setup.cached, black_box(header.as_bytes()), &policy))
            });
        }
        c.bench_function(&format!("cold_{name}"), |b| {
            b.iter(|| authenticate(&setup.cold, black_box(header.as_bytes()), &policy))
        });
        let raw = raw_check(*alg, pkey, &token);
        assert!(raw(), "{name} raw check");
        c.bench_function(&format!("raw_{name}"), |b| b.iter(|| black_box(raw())));
    }
}

criterion_group!(verify, benches);
criterion_main!(verify);
