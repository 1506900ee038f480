//! The JWKS actor against a loopback fake provider: discovery, refetch on unknown `kid`
//! (once per cooldown, shared by concurrent misses), stale-if-error with degraded
//! readiness, dropped keys, the size cap.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod idp;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use idp::fake_idp::FakeIdp;
use openssl::pkey::{PKey, Private};
use serde_json::{Value, json};
use skybridge_actors::identity::devtools::{generate_key, public_jwk, sign_compact};
use skybridge_actors::identity::{AuthReason, Verifier, VerifierOptions};
use skybridge_actors::jwks::Algorithm;
use skybridge_shared::config::{Config, RequiredAuth};
use skybridge_shared::health::{Health, HealthState};

const AUD: &str = "api://orders";

struct Key {
    pkey: PKey<Private>,
    kid: String,
    jwk: Value,
}

fn key(alg: Algorithm) -> Key {
    let generated = generate_key(alg).unwrap();
    let pkey = PKey::private_key_from_pem(&generated.private_pem).unwrap();
    let (jwk, kid) = public_jwk(&pkey, alg).unwrap();
    Key { pkey, kid, jwk }
}

fn jwks(keys: &[&Key]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

fn token(key: &Key, iss: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let alg = key.jwk["alg"].as_str().unwrap();
    let claims = json!({"iss": iss, "aud": AUD, "sub": "svc", "exp": now + 300});
    sign_compact(&key.pkey, &json!({"alg": alg, "kid": key.kid}), &claims).unwrap()
}

fn start(
    idp: &FakeIdp,
    source: &str,
    max_stale: &str,
    options: VerifierOptions,
) -> (Verifier, Health) {
    let toml = format!(
        r#"[[issuers]]
name = "idp"
issuer = "{base}"
{source}
audiences = ["{AUD}"]
max_stale = "{max_stale}"
"#,
        base = idp.base(),
        source = source.replace("BASE", &idp.base()),
    );
    let config: Config = toml::from_str(&toml).unwrap();
    let health = Health::default();
    (Verifier::start_with(&config, health.clone(), options).unwrap(), health)
}

fn fast() -> VerifierOptions {
    let mut options = VerifierOptions::default();
    options.tuning.min_refresh = Duration::from_millis(100);
    options.tuning.default_refresh = Duration::from_millis(100);
    options.tuning.retry_interval = Duration::from_millis(100);
    options.tuning.fetch_timeout = Duration::from_secs(2);
    options
}

async fn check(verifier: &Verifier, token: &str) -> Result<(), AuthReason> {
    let header = format!("Bearer {token}");
    verifier
        .authenticate(&[header.as_bytes()], &RequiredAuth::default())
        .await
        .map(|_| ())
        .map_err(|rejection| rejection.reason)
}

async fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..150 {
        if condition() {
            return true;
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn state(health: &Health) -> HealthState {
    health.snapshot()["issuer:idp"].state
}

#[actix_rt::test]
async fn discovery_loads_keys_and_unknown_kids_refetch_once_per_cooldown() {
    let (a, b, stranger) = (key(Algorithm::Rs256), key(Algorithm::Es256), key(Algorithm::Es256));
    let idp = FakeIdp::start(&jwks(&[&a]));
    let source = r#"discovery_url = "BASE/.well-known/openid-configuration""#;
    let (verifier, health) = start(&idp, source, "24h", VerifierOptions::default());
    assert_eq!(state(&health), HealthState::NotReady);
    // The first request may race the initial fetch; it waits for it rather than failing.
    assert_eq!(check(&verifier, &token(&a, &idp.base())).await, Ok(()));
    assert!(wait_for(|| state(&health) == HealthState::Ready).await);
    assert_eq!(idp.fetches(), 1);
    // Discovery advertised HS256 too; it can only narrow the configured list.
    let algs = verifier.keys("idp").unwrap().algorithms().to_vec();
    assert_eq!(algs, [Algorithm::Rs256, Algorithm::Es256]);

    // The provider rotates in key b; concurrent tokens signed with it share one refetch.
    idp.set(|s| s.jwks = jwks(&[&a, &b]).to_string());
    let token_b = token(&b, &idp.base());
    let results = join_all((0..8).map(|_| check(&verifier, &token_b))).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(idp.fetches(), 2, "concurrent misses share one fetch");

    // Inside the cooldown, unknown kids are rejected without another fetch.
    let token_stranger = token(&stranger, &idp.base());
    for _ in 0..3 {
        assert_eq!(check(&verifier, &token_stranger).await, Err(AuthReason::KeyUnknown));
    }
    // A token without kid never causes a fetch.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"iss": idp.base(), "aud": AUD, "sub": "svc", "exp": now + 300});
    let kidless = sign_compact(&stranger.pkey, &json!({"alg": "ES256"}), &claims).unwrap();
    assert_eq!(check(&verifier, &kidless).await, Err(AuthReason::SignatureInvalid));
    assert_eq!(idp.fetches(), 2, "exactly one refetch inside the cooldown");
}

#[actix_rt::test]
async fn cooldown_expiry_allows_the_next_refetch() {
    let (a, b) = (key(Algorithm::Es256), key(Algorithm::Es256));
    let idp = FakeIdp::start(&jwks(&[&a]));
    let mut options = VerifierOptions::default();
    options.tuning.miss_cooldown = Duration::from_millis(300);
    let (verifier, _) = start(&idp, r#"jwks_uri = "BASE/jwks""#, "24h", options);
    assert_eq!(check(&verifier, &token(&a, &idp.base())).await, Ok(()));
    assert_eq!(check(&verifier, &token(&b, &idp.base())).await, Err(AuthReason::KeyUnknown));
    assert_eq!(idp.fetches(), 2);
    idp.set(|s| s.jwks = jwks(&[&a, &b]).to_string());
    assert_eq!(check(&verifier, &token(&b, &idp.base())).await, Err(AuthReason::KeyUnknown));
    assert_eq!(idp.fetches(), 2, "still inside the cooldown");
    actix_rt::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(check(&verifier, &token(&b, &idp.base())).await, Ok(()));
    assert_eq!(idp.fetches(), 3);
}

#[actix_rt::test]
async fn provider_down_keeps_last_good_keys_until_max_stale() {
    let a = key(Algorithm::Rs256);
    let idp = FakeIdp::start(&jwks(&[&a]));
    let (verifier, health) = start(&idp, r#"jwks_uri = "BASE/jwks""#, "1s", fast());
    let token_a = token(&a, &idp.base());
    assert_eq!(check(&verifier, &token_a).await, Ok(()));
    idp.set(|s| s.status = 503);
    assert!(wait_for(|| state(&health) == HealthState::Degraded).await);
    assert_eq!(check(&verifier, &token_a).await, Ok(()), "last good keys still trusted");
    // Garbage with a 200 is a failure too, not an empty key set.
    idp.set(|s| {
        s.status = 200;
        s.jwks = r#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#.to_owned();
    });
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state(&health), HealthState::Degraded);
    assert_eq!(check(&verifier, &token_a).await, Ok(()));
    // Past max_stale the keys are dropped: the issuer cannot be checked any more.
    assert!(wait_for(|| state(&health) == HealthState::NotReady).await);
    assert_eq!(check(&verifier, &token(&a, &idp.base())).await, Err(AuthReason::KeysUnavailable));
    // Recovery.
    idp.set(|s| s.jwks = jwks(&[&a]).to_string());
    assert!(wait_for(|| state(&health) == HealthState::Ready).await);
    assert_eq!(check(&verifier, &token_a).await, Ok(()));
}

#[actix_rt::test]
async fn a_dropped_key_stops_being_trusted_at_the_next_refresh() {
    let (a, b) = (key(Algorithm::Rs256), key(Algorithm::Es256));
    let idp = FakeIdp::start(&jwks(&[&a, &b]));
    idp.set(|s| s.cache_control = Some("public, max-age=0".to_owned()));
    let (verifier, _) = start(&idp, r#"jwks_uri = "BASE/jwks""#, "24h", fast());
    let token_b = token(&b, &idp.base());
    assert_eq!(check(&verifier, &token_b).await, Ok(()));
    assert_eq!(check(&verifier, &token_b).await, Ok(()), "cached");
    idp.set(|s| s.jwks = jwks(&[&a]).to_string());
    let before = idp.fetches();
    assert!(wait_for(|| idp.fetches() > before + 1).await, "refresh follows max-age");
    assert_eq!(check(&verifier, &token_b).await, Err(AuthReason::KeyUnknown));
    assert_eq!(check(&verifier, &token(&a, &idp.base())).await, Ok(()));
}

#[actix_rt::test]
async fn oversized_documents_and_foreign_discovery_are_refused() {
    let a = key(Algorithm::Rs256);
    let padding = "x".repeat(1024 * 1024 + 10);
    let big = json!({"keys": [a.jwk.clone()], "padding": padding});
    let idp = FakeIdp::start(&big);
    let (verifier, health) =
        start(&idp, r#"jwks_uri = "BASE/jwks""#, "24h", VerifierOptions::default());
    assert_eq!(check(&verifier, &token(&a, &idp.base())).await, Err(AuthReason::KeysUnavailable));
    assert_eq!(state(&health), HealthState::NotReady);
    drop(verifier);

    let other = FakeIdp::start(&jwks(&[&a]));
    other.set(|s| s.issuer = "https://evil.test".to_owned());
    let source = r#"discovery_url = "BASE/.well-known/openid-configuration""#;
    let (verifier, health) = start(&other, source, "24h", VerifierOptions::default());
    assert_eq!(check(&verifier, &token(&a, &other.base())).await, Err(AuthReason::KeysUnavailable));
    assert_eq!(state(&health), HealthState::NotReady);
    assert_eq!(other.fetches(), 0, "the JWKS of a mismatched issuer is never fetched");
}
