//! The `self_signed` credential: tokens verify against the published JWKS, carry integer
//! NumericDates, a `jti` and optionally the caller; key rotation publishes the new key first,
//! signs with it after `publish_delay`, and keeps the old key published until its tokens
//! expired, so that every token verifies at every moment.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::issuer::{decode_unverified, verify_with_jwks};
use common::{config_in, eventually, fast_options};
use serde_json::Value;
use skybridge_actors::minter::{CallerIdentity, Credentials};
use skybridge_actors::signing::{Algorithm, generate_key};
use skybridge_shared::health::{Health, HealthState};

const ISSUER: &str = "https://skybridge.test";
const AUDIENCE: &str = "https://orders.internal";

fn config(dir: &Path, ttl: &str, delay: &str) -> skybridge_shared::config::Config {
    config_in(
        dir,
        &format!(
            "[[credentials]]\nname = \"signed\"\nkind = \"self_signed\"\n\
             audience = \"{AUDIENCE}\"\n\
             issuer = \"{ISSUER}\"\nsigning_keys = \"keys\"\nttl = \"{ttl}\"\n\
             publish_delay = \"{delay}\"\ninclude_caller = true\n"
        ),
    )
}

fn write_key(dir: &Path, name: &str, alg: Algorithm) -> String {
    let (pem, jwk) = generate_key(alg).expect("generate");
    std::fs::write(dir.join("keys").join(name), pem).expect("write key");
    jwk["kid"].as_str().expect("kid").to_owned()
}

fn caller() -> CallerIdentity {
    CallerIdentity {
        issuer: "https://login.microsoftonline.com/tenant/v2.0".into(),
        subject: "alice".into(),
        client_id: Some("app-1".into()),
        tenant: Some("tenant".into()),
    }
}

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[actix_rt::test]
async fn tokens_verify_against_the_published_jwks_for_every_algorithm() {
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
        let kid = write_key(dir.path(), "a.pem", alg);
        std::fs::write(dir.path().join("keys/README.txt"), "not a key").expect("write");
        let health = Health::default();
        let credentials = Credentials::start_with(
            &config(dir.path(), "5m", "10m"),
            health.clone(),
            fast_options(),
        )
        .expect("starts");
        assert_eq!(kids(&credentials.jwks()), BTreeSet::from([kid.clone()]));
        let jwk = &credentials.jwks()["keys"][0];
        assert_eq!(jwk["alg"], alg.as_str());
        assert!(jwk.get("d").is_none(), "private member published");

        let plain = credentials.token("signed", None).await.expect("token");
        let claims =
            verify_with_jwks(&credentials.jwks(), plain.jwt(), AUDIENCE, ISSUER).expect("verifies");
        let (header, _) = decode_unverified(plain.jwt());
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some(alg.as_str()), Some(kid.as_str()))
        );
        let iat = claims["iat"].as_u64().expect("integer iat");
        assert_eq!(claims["nbf"].as_u64(), Some(iat));
        assert_eq!(claims["exp"].as_u64(), Some(iat + 300));
        assert_eq!(claims["sub"], "signed");
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
        assert!(claims.get("caller").is_none());
        // Cached while fresh.
        let again = credentials.token("signed", None).await.expect("token");
        assert_eq!(again.jwt(), plain.jwt());

        let with_caller = credentials.token("signed", Some(&caller())).await.expect("token");
        let claims = verify_with_jwks(&credentials.jwks(), with_caller.jwt(), AUDIENCE, ISSUER)
            .expect("verifies");
        assert_eq!(
            claims["caller"],
            serde_json::json!({
                "iss": caller().issuer, "sub": "alice", "azp": "app-1", "tid": "tenant",
            })
        );
        let other = credentials.token("signed", Some(&caller())).await.expect("token");
        assert_ne!(other.jwt(), with_caller.jwt(), "per-caller tokens are not cached");
        assert_eq!(health.snapshot()["credential:signed"].state, HealthState::Ready);
    }
}

#[actix_rt::test]
async fn an_empty_key_directory_is_not_ready_and_yields_no_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
    std::fs::write(dir.path().join("keys/broken.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n")
        .expect("write");
    let health = Health::default();
    let credentials =
        Credentials::start_with(&config(dir.path(), "5m", "10m"), health.clone(), fast_options())
            .expect("starts");
    let entry = health.snapshot()["credential:signed"].clone();
    assert_eq!(entry.state, HealthState::NotReady);
    assert!(entry.detail.contains("No usable signing key"), "{}", entry.detail);
    let err = credentials.token("signed", None).await.expect_err("no key");
    assert!(err.to_string().contains("no usable signing key"), "{err}");
    assert_eq!(credentials.jwks(), serde_json::json!({"keys": []}));

    // A key dropped in later is picked up without a restart.
    write_key(dir.path(), "new.pem", Algorithm::ES256);
    eventually(Duration::from_secs(3), "key picked up", || {
        health.snapshot()["credential:signed"].state == HealthState::Degraded
    })
    .await;
    credentials.token("signed", None).await.expect("token once a key exists");
}

#[actix_rt::test]
async fn key_rotation_under_load_never_fails_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
    let old = write_key(dir.path(), "current.pem", Algorithm::ES256);
    let credentials =
        Credentials::start_with(&config(dir.path(), "2s", "1s"), Health::default(), fast_options())
            .expect("starts");

    let started = Instant::now();
    let mut rotated_at = None;
    let mut new = None;
    let mut published_at: HashMap<String, Instant> = HashMap::from([(old.clone(), started)]);
    let mut first_signed: HashMap<String, Instant> = HashMap::new();
    let mut live: Vec<(String, u64)> = Vec::new();
    let mut old_after_rotation = 0;
    let mut verified = 0;
    while started.elapsed() < Duration::from_secs(6) {
        if rotated_at.is_none() && started.elapsed() > Duration::from_millis(500) {
            // The operator replaces the key file.
            new = Some(write_key(dir.path(), "next.pem", Algorithm::EdDSA));
            std::fs::remove_file(dir.path().join("keys/current.pem")).expect("remove");
            rotated_at = Some(Instant::now());
        }
        let caller = caller();
        let calls = (0..20).map(|i| credentials.token("signed", (i % 2 == 0).then_some(&caller)));
        let tokens = futures_util::future::join_all(calls).await;
        let jwks = credentials.jwks();
        let now = Instant::now();
        for kid in kids(&jwks) {
            published_at.entry(kid).or_insert(now);
        }
        for token in tokens {
            let token = token.expect("token");
            let claims = verify_with_jwks(&jwks, token.jwt(), AUDIENCE, ISSUER)
                .expect("fresh token verifies");
            let (header, _) = decode_unverified(token.jwt());
            let kid = header["kid"].as_str().expect("kid").to_owned();
            first_signed.entry(kid.clone()).or_insert(now);
            if rotated_at.is_some() && kid == old {
                old_after_rotation += 1;
            }
            live.push((token.jwt().to_owned(), claims["exp"].as_u64().expect("exp")));
        }
        // Every token issued so far and not yet expired still verifies against today's JWKS.
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
        live.retain(|(_, exp)| *exp > unix);
        live.sort();
        live.dedup();
        for (jwt, _) in &live {
            verify_with_jwks(&jwks, jwt, AUDIENCE, ISSUER).expect("live token verifies");
            verified += 1;
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    let new = new.expect("rotated");
    let published = published_at[&new];
    let signed = first_signed.get(&new).copied().expect("new key signed");
    assert!(old_after_rotation > 0, "the old key stopped signing before the new one was ready");
    assert!(
        signed.duration_since(published) >= Duration::from_millis(900),
        "new key signed {:?} after publication",
        signed.duration_since(published)
    );
    assert_eq!(
        kids(&credentials.jwks()),
        BTreeSet::from([new]),
        "old key retired after its tokens expired"
    );
    assert!(verified > 1000, "only {verified} verifications");
}
