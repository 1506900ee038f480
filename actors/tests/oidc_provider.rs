//! Tokens from a real, certified OpenID provider (`oidc-provider` under Node) through the
//! `Verifier`: discovery, JWKS, key rotation, and the provider going away.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod idp;

use std::sync::Arc;

use idp::oidc_provider::OidcProvider;
use serde_json::Value;
use skybridge_actors::identity::{AuthReason, Identity, Verifier};
use skybridge_shared::config::{Config, RequiredAuth};
use skybridge_shared::health::{Health, HealthState};

fn policy(scopes: &[&str]) -> RequiredAuth {
    RequiredAuth {
        issuers: vec!["local".to_owned()],
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..RequiredAuth::default()
    }
}

async fn check(
    verifier: &Verifier,
    token: &str,
    scopes: &[&str],
) -> Result<Arc<Identity>, AuthReason> {
    let header = format!("Bearer {token}");
    verifier.authenticate(&[header.as_bytes()], &policy(scopes)).await.map_err(|r| r.reason)
}

fn kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    let header: Value = serde_json::from_slice(&bytes).unwrap();
    header["kid"].as_str().unwrap_or_default().to_owned()
}

#[actix_rt::test]
async fn real_provider_tokens_survive_rotation_and_provider_shutdown() {
    let mut provider = OidcProvider::start().expect("start the OIDC provider");
    let toml = format!(
        r#"[[issuers]]
name = "local"
issuer = "{issuer}"
discovery_url = "{issuer}/.well-known/openid-configuration"
audiences = ["{resource}"]
"#,
        issuer = provider.issuer,
        resource = provider.resource,
    );
    let config: Config = toml::from_str(&toml).unwrap();
    let health = Health::default();
    let verifier = Verifier::start(&config, health.clone()).unwrap();

    let first = provider.access_token("orders.read").await;
    let identity = check(&verifier, &first, &["orders.read"]).await.expect("first token");
    assert_eq!(identity.issuer, provider.issuer);
    assert_eq!(identity.client_id.as_deref(), Some(provider.client_id.as_str()));
    assert_eq!(identity.scopes, ["orders.read"]);
    assert_eq!(health.snapshot()["issuer:local"].state, HealthState::Ready);
    assert_eq!(
        check(&verifier, &first, &["orders.write"]).await.err(),
        Some(AuthReason::InsufficientScope)
    );

    // Rotation: the new key signs new tokens; the verifier picks it up on the kid miss.
    let new_kid = provider.rotate().expect("rotate keys");
    let rotated = provider.access_token("orders.read orders.write").await;
    assert_eq!(kid(&rotated), new_kid);
    assert_ne!(kid(&rotated), kid(&first));
    check(&verifier, &rotated, &["orders.read", "orders.write"]).await.expect("rotated token");
    check(&verifier, &first, &["orders.read"]).await.expect("old token, old key still published");

    // Provider gone: cached tokens and tokens signed with known keys keep passing.
    let unverified_yet = provider.access_token("orders.read").await;
    provider.stop().expect("stop the provider");
    check(&verifier, &first, &["orders.read"]).await.expect("cached after shutdown");
    check(&verifier, &rotated, &["orders.write"]).await.expect("cached after shutdown");
    check(&verifier, &unverified_yet, &["orders.read"]).await.expect("known key after shutdown");
    assert!(verifier.cached_tokens() >= 3);
}
