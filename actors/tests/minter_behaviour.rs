//! How the minter behaves over time: one mint for a thundering herd, refresh ahead of expiry,
//! backoff and recovery, serving a valid token while refresh fails, error reporting that
//! never leaks secrets, and exactly one re-mint after a 401.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{AZURE_VM, Fakes, IAM, METADATA, Mode, STS, TOKEN, eventually, fast_options};
use futures_util::future::join_all;
use skybridge_actors::minter::{CredentialError, Credentials, MinterOptions};
use skybridge_shared::health::{Health, HealthState};

const AUDIENCE: &str = "https://orders-abc123-uc.a.run.app";

fn service_account() -> String {
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"google_service_account\"\n\
         audience = \"{AUDIENCE}\"\nkey_file = \"sa.json\"\n"
    )
}

fn metadata_at(base: &str) -> String {
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"gce_metadata\"\naudience = \"{AUDIENCE}\"\n\
         metadata_url = \"{base}\"\n"
    )
}

fn azure(fakes: &Fakes) -> String {
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"azure_workload_identity\"\n\
         audience = \"{AUDIENCE}\"\ncredential_file = \"external_account.json\"\n\
         service_account = \"{}\"\niam_credentials_url = \"{}\"\n",
        fakes.state.service_account, fakes.base
    )
}

fn start(fakes: &Fakes, config: &str, options: MinterOptions) -> (Credentials, Health) {
    let health = Health::default();
    let credentials =
        Credentials::start_with(&fakes.config(config), health.clone(), options).expect("starts");
    (credentials, health)
}

fn readiness(health: &Health) -> Option<(HealthState, String)> {
    health.snapshot().get("credential:orders").map(|c| (c.state, c.detail.clone()))
}

#[actix_rt::test]
async fn a_thousand_concurrent_calls_on_a_cold_cache_cause_exactly_one_mint() {
    let fakes = Fakes::start().await;
    fakes.set_mode(TOKEN, Mode::Slow(Duration::from_millis(300)));
    let (credentials, _) = start(&fakes, &service_account(), fast_options());
    let calls = (0..1000).map(|_| credentials.token("orders", None));
    let tokens = join_all(calls).await;
    let first = tokens[0].as_ref().expect("token").jwt().to_owned();
    assert!(tokens.iter().all(|t| t.as_ref().is_ok_and(|t| t.jwt() == first)));
    assert_eq!(fakes.count(TOKEN), 1);
    fakes.state.issuer.verify(&first, AUDIENCE);
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn short_lived_tokens_are_refreshed_ahead_and_never_handed_out_expired() {
    let fakes = Fakes::start().await;
    fakes.set_lifetime(Duration::from_secs(4));
    let (credentials, _) = start(&fakes, &metadata_at(&fakes.base), fast_options());
    let started = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(9) {
        let asked = Instant::now();
        let token = credentials.token("orders", None).await.expect("token");
        slowest = slowest.max(asked.elapsed());
        assert!(token.expires_at() > SystemTime::now(), "handed out an expired token");
        fakes.state.issuer.verify(token.jwt(), AUDIENCE);
        seen.insert(token.jwt().to_owned());
        actix_rt::time::sleep(Duration::from_millis(25)).await;
    }
    // About one mint per 2 s: refreshed ahead, not on demand after expiry.
    let mints = fakes.count(METADATA);
    assert!((4..=8).contains(&mints), "{mints} mints in 9 s");
    assert!(seen.len() >= 4, "{} distinct tokens", seen.len());
    assert!(slowest < Duration::from_millis(100), "a caller waited {slowest:?} for a refresh");
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn failures_back_off_exponentially_and_recover() {
    let fakes = Fakes::start().await;
    fakes.set_mode(TOKEN, Mode::Unavailable);
    let (credentials, health) = start(&fakes, &service_account(), fast_options());
    eventually(Duration::from_secs(5), "not ready", || {
        readiness(&health)
            .is_some_and(|(s, d)| s == HealthState::NotReady && d.contains("HTTP 503"))
    })
    .await;
    let err = credentials.token("orders", None).await.expect_err("no token");
    let CredentialError::Unavailable { credential, reason } = &err else { panic!("{err:?}") };
    assert_eq!(credential, "orders");
    assert_eq!(reason, "token endpoint: HTTP 503");

    // Requests during backoff are answered at once and do not start mints of their own.
    let before = fakes.count(TOKEN);
    let asked = Instant::now();
    let answers = join_all((0..200).map(|_| credentials.token("orders", None))).await;
    assert!(answers.iter().all(Result::is_err));
    assert!(asked.elapsed() < Duration::from_millis(500));
    assert!(fakes.count(TOKEN) <= before + 1);

    // Backoff 100 ms doubling to 400 ms (equal jitter): a handful of attempts per 1.5 s.
    let before = fakes.count(TOKEN);
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    let attempts = fakes.count(TOKEN) - before;
    assert!((3..=16).contains(&attempts), "{attempts} attempts in 1.5 s");

    fakes.set_mode(TOKEN, Mode::Ok);
    eventually(Duration::from_secs(3), "recovery", || {
        readiness(&health).is_some_and(|(s, _)| s == HealthState::Ready)
    })
    .await;
    let token = credentials.token("orders", None).await.expect("recovered");
    fakes.state.issuer.verify(token.jwt(), AUDIENCE);
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn a_valid_token_is_served_while_refresh_fails_until_it_runs_out() {
    let fakes = Fakes::start().await;
    fakes.set_lifetime(Duration::from_secs(5));
    let (credentials, health) = start(&fakes, &service_account(), fast_options());
    let first = credentials.token("orders", None).await.expect("token");
    fakes.set_mode(TOKEN, Mode::Unavailable);
    eventually(Duration::from_secs(6), "degraded", || {
        readiness(&health).is_some_and(|(s, _)| s == HealthState::Degraded)
    })
    .await;
    let served = credentials.token("orders", None).await.expect("still served");
    assert_eq!(served.jwt(), first.jwt());
    eventually(Duration::from_secs(6), "not ready once the token runs out", || {
        readiness(&health).is_some_and(|(s, _)| s == HealthState::NotReady)
    })
    .await;
    assert!(credentials.token("orders", None).await.is_err());
    assert!(first.expires_at() > SystemTime::now(), "stopped serving before exp");
}

#[actix_rt::test]
async fn every_documented_error_shape_is_reported_without_secrets() {
    let fakes = Fakes::start().await;
    let slow = Duration::from_secs(3);
    let cases: Vec<(&'static str, Mode, String, &str)> = vec![
        (TOKEN, Mode::OAuthError, service_account(), "token endpoint: HTTP 400 (invalid_grant)"),
        (TOKEN, Mode::Forbidden, service_account(), "token endpoint: HTTP 403 (PERMISSION_DENIED)"),
        (
            TOKEN,
            Mode::Garbage,
            service_account(),
            "token endpoint: unexpected answer: the body is not JSON",
        ),
        (TOKEN, Mode::MissingToken, service_account(), "no id_token in the answer"),
        (TOKEN, Mode::Slow(slow), service_account(), "token endpoint: request failed: timed out"),
        (METADATA, Mode::Garbage, metadata_at(&fakes.base), "lacks Metadata-Flavor: Google"),
        (METADATA, Mode::MissingToken, metadata_at(&fakes.base), "not a compact JWT"),
        (AZURE_VM, Mode::Unavailable, azure(&fakes), "Azure identity endpoint: HTTP 503"),
        (STS, Mode::OAuthError, azure(&fakes), "STS token exchange: HTTP 400 (invalid_grant)"),
        (IAM, Mode::Forbidden, azure(&fakes), "generateIdToken: HTTP 403 (PERMISSION_DENIED)"),
        (IAM, Mode::MissingToken, azure(&fakes), "no token in the answer"),
    ];
    for (endpoint, mode, config, expected) in cases {
        fakes.set_mode(endpoint, mode.clone());
        let (credentials, health) = start(&fakes, &config, fast_options());
        eventually(Duration::from_secs(5), expected, || {
            readiness(&health).is_some_and(|(s, _)| s == HealthState::NotReady)
                && fakes.count(endpoint) > 0
                && readiness(&health).is_some_and(|(_, d)| d != "No token minted yet.")
        })
        .await;
        let (_, detail) = readiness(&health).expect("entry");
        assert!(detail.contains(expected), "{mode:?}: {detail}");
        for secret in ["DESCRIPTION-MARKER", "eyJ", "ya29.", &fakes.state.app_service_secret] {
            assert!(!detail.contains(secret), "{mode:?} leaked {secret}: {detail}");
        }
        let err = credentials.token("orders", None).await.expect_err("no token");
        assert!(err.to_string().contains(expected), "{err}");
        fakes.set_mode(endpoint, Mode::Ok);
    }
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn an_unreachable_endpoint_is_reported_as_such() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let fakes = Fakes::start().await;
    let (credentials, _) = start(&fakes, &metadata_at(&base), fast_options());
    let err = credentials.token("orders", None).await.expect_err("refused");
    assert!(err.to_string().contains("metadata server: request failed"), "{err}");
}

#[actix_rt::test]
async fn invalidation_after_a_401_causes_exactly_one_re_mint() {
    let fakes = Fakes::start().await;
    let (credentials, _) = start(&fakes, &service_account(), fast_options());
    let refused = credentials.token("orders", None).await.expect("token");
    assert_eq!(fakes.count(TOKEN), 1);
    // Fifty requests saw the same 401 at once.
    for _ in 0..50 {
        credentials.invalidate("orders", &refused);
    }
    let retried = join_all((0..50).map(|_| credentials.token("orders", None))).await;
    let fresh = retried[0].as_ref().expect("re-minted").clone();
    assert!(retried.iter().all(|t| t.as_ref().is_ok_and(|t| t.jwt() == fresh.jwt())));
    assert_ne!(fresh.jwt(), refused.jwt());
    assert_eq!(fakes.count(TOKEN), 2);
    // A late 401 for the old token drops nothing.
    credentials.invalidate("orders", &refused);
    credentials.token("orders", None).await.expect("token");
    assert_eq!(fakes.count(TOKEN), 2);
}

#[actix_rt::test]
async fn a_token_younger_than_the_remint_floor_is_not_dropped() {
    let fakes = Fakes::start().await;
    let options = MinterOptions { remint_floor: Duration::from_secs(60), ..fast_options() };
    let (credentials, _) = start(&fakes, &service_account(), options);
    let token = credentials.token("orders", None).await.expect("token");
    credentials.invalidate("orders", &token);
    let again = credentials.token("orders", None).await.expect("token");
    assert_eq!(again.jwt(), token.jwt());
    assert_eq!(fakes.count(TOKEN), 1);
}
