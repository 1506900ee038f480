//! Each remote credential kind end to end against the local fakes: the token the minter
//! hands out verifies against the fake Google issuer's keys, for the right audience, and every
//! request the minter sent matched the protocol note field by field.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{AZURE_APP, AZURE_VM, Fakes, IAM, METADATA, STS, TOKEN, eventually, fast_options};
use skybridge_actors::minter::{Credentials, MinterOptions};
use skybridge_shared::health::{Health, HealthState};

const AUDIENCE: &str = "https://orders-abc123-uc.a.run.app";

fn service_account(header: &str) -> String {
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"google_service_account\"\n\
         audience = \"{AUDIENCE}\"\nkey_file = \"sa.json\"\nheader = \"{header}\"\n"
    )
}

fn metadata(base: &str) -> String {
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"gce_metadata\"\naudience = \"{AUDIENCE}\"\n\
         metadata_url = \"{base}/\"\nheader = \"x-serverless-authorization\"\n"
    )
}

fn azure(fakes: &Fakes, app_service: bool) -> String {
    let env = if app_service {
        "identity_endpoint_env = \"IDENTITY_ENDPOINT\"\nidentity_header_env = \"IDENTITY_HEADER\"\n"
    } else {
        ""
    };
    format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"azure_workload_identity\"\n\
         audience = \"{AUDIENCE}\"\ncredential_file = \"external_account.json\"\n\
         service_account = \"{}\"\niam_credentials_url = \"{}\"\n{env}",
        fakes.state.service_account, fakes.base
    )
}

/// Mints once and checks the token as an upstream would.
async fn mint_and_verify(fakes: &Fakes, config: &str, options: MinterOptions) -> Health {
    let health = Health::default();
    let credentials =
        Credentials::start_with(&fakes.config(config), health.clone(), options).expect("starts");
    let token = credentials.token("orders", None).await.expect("token");
    let claims = fakes.state.issuer.verify(token.jwt(), AUDIENCE);
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(UNIX_EPOCH + Duration::from_secs(exp) > SystemTime::now());
    assert_eq!(token.expires_at(), UNIX_EPOCH + Duration::from_secs(exp));
    assert_eq!(token.header_value(), format!("Bearer {}", token.jwt()));
    let debug = format!("{token:?} {token}");
    assert!(!debug.contains(token.jwt()) && debug.contains("orders"), "{debug}");
    assert_eq!(health.snapshot()["credential:orders"].state, HealthState::Ready);
    fakes.assert_no_violations();
    health
}

#[actix_rt::test]
async fn google_service_account_end_to_end() {
    let fakes = Fakes::start().await;
    mint_and_verify(&fakes, &service_account("authorization"), fast_options()).await;
    assert_eq!(fakes.count(TOKEN), 1);
}

#[actix_rt::test]
async fn service_account_token_goes_in_the_configured_header() {
    let fakes = Fakes::start().await;
    let config = fakes.config(&service_account("x-serverless-authorization"));
    let credentials =
        Credentials::start_with(&config, Health::default(), fast_options()).expect("starts");
    let token = credentials.token("orders", None).await.expect("token");
    assert_eq!(token.header_name(), "x-serverless-authorization");
    let err = credentials.token("nope", None).await.expect_err("unknown credential");
    assert_eq!(err.to_string(), "no credential named \"nope\"");
}

#[actix_rt::test]
async fn gce_metadata_end_to_end() {
    let fakes = Fakes::start().await;
    mint_and_verify(&fakes, &metadata(&fakes.base), fast_options()).await;
    assert_eq!(fakes.count(METADATA), 1);
}

#[actix_rt::test]
async fn azure_vm_identity_end_to_end() {
    let fakes = Fakes::start().await;
    mint_and_verify(&fakes, &azure(&fakes, false), fast_options()).await;
    assert_eq!((fakes.count(AZURE_VM), fakes.count(STS), fakes.count(IAM)), (1, 1, 1));
}

#[actix_rt::test]
async fn azure_app_service_identity_end_to_end() {
    let fakes = Fakes::start().await;
    let endpoint = format!("{}/msi/token", fakes.base);
    let secret = fakes.state.app_service_secret.clone();
    let options = MinterOptions {
        env: Arc::new(move |name| match name {
            "IDENTITY_ENDPOINT" => Some(endpoint.clone()),
            "IDENTITY_HEADER" => Some(secret.clone()),
            _ => None,
        }),
        ..fast_options()
    };
    let health = mint_and_verify(&fakes, &azure(&fakes, true), options).await;
    assert_eq!((fakes.count(AZURE_APP), fakes.count(AZURE_VM)), (1, 0));
    let shown = format!("{:?}", health.snapshot());
    assert!(!shown.contains(&fakes.state.app_service_secret));
}

#[actix_rt::test]
async fn app_service_without_its_environment_fails_to_start_naming_the_variable() {
    let fakes = Fakes::start().await;
    let options = MinterOptions { env: Arc::new(|_| None), ..fast_options() };
    let err =
        Credentials::start_with(&fakes.config(&azure(&fakes, true)), Health::default(), options)
            .expect_err("no environment");
    assert_eq!(
        err.to_string(),
        "credential \"orders\": environment variable IDENTITY_ENDPOINT is not set"
    );
}

#[actix_rt::test]
async fn a_broken_key_file_fails_start_without_showing_the_key() {
    let fakes = Fakes::start().await;
    let text = std::fs::read_to_string(fakes.path("sa.json")).expect("read");
    let mut key: serde_json::Value = serde_json::from_str(&text).expect("json");
    let pem = key["private_key"].as_str().expect("pem").to_owned();
    key["private_key"] = serde_json::json!(pem.replace("MII", "XII"));
    key.as_object_mut().expect("object").remove("token_uri");
    std::fs::write(fakes.path("sa.json"), key.to_string()).expect("write");
    let err = Credentials::start_with(
        &fakes.config(&service_account("authorization")),
        Health::default(),
        fast_options(),
    )
    .expect_err("no token_uri");
    let message = err.to_string();
    assert!(message.contains("has no http(s) token_uri"), "{message}");
    assert!(!message.contains("PRIVATE KEY"), "{message}");
}

#[actix_rt::test]
async fn readiness_turns_ready_after_the_eager_mint_without_any_request() {
    let fakes = Fakes::start().await;
    let health = Health::default();
    let _credentials = Credentials::start_with(
        &fakes.config(&metadata(&fakes.base)),
        health.clone(),
        fast_options(),
    )
    .expect("starts");
    eventually(Duration::from_secs(5), "ready", || {
        health.snapshot().get("credential:orders").is_some_and(|c| c.state == HealthState::Ready)
    })
    .await;
    assert_eq!(fakes.count(METADATA), 1);
}

#[actix_rt::test]
async fn https_endpoints_are_verified_against_the_configured_roots() {
    let fakes = Fakes::start_tls().await;
    let roots = vec![fakes.ca_pem.clone().expect("certificate")];
    let options = MinterOptions { extra_roots_pem: roots, ..fast_options() };
    mint_and_verify(&fakes, &azure(&fakes, false), options).await;

    // Without the test root the same endpoints are refused: the certificate is checked.
    let health = Health::default();
    let config = fakes.config(&service_account("authorization"));
    let credentials = Credentials::start_with(&config, health, fast_options()).expect("starts");
    let err = credentials.token("orders", None).await.expect_err("untrusted certificate");
    assert!(err.to_string().contains("token endpoint: request failed"), "{err}");
}
