//! Inbound identity through the real binary: tokens signed with `skybridge token issue` for a
//! `jwks_file` issuer, hostile tokens, and a real OpenID provider (`oidc-provider` under
//! Node) issuing tokens that pass through Skybridge to the mTLS upstream, across a key
//! rotation and the provider going away.

mod common;
#[path = "../../actors/tests/idp/oidc_provider.rs"]
mod oidc_provider;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use awc::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Gateway, TestDir, Upstream, assert_problem, client, mtls_upstream_block};
use oidc_provider::OidcProvider;
use serde_json::Value;

const ISSUER: &str = "https://dev.skybridge.test";
const AUDIENCE: &str = "api://orders";

fn skybridge(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_skybridge")).args(args).output().expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

/// Generates a key pair and returns (private key path, jwks path).
fn keys(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("keys");
    skybridge(&["keys", "generate", "--alg", "RS256", "--out", out.to_str().expect("utf-8")]);
    let key = std::fs::read_dir(&out)
        .expect("keys dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pem"))
        .expect("private key");
    (key, out.join("jwks.json"))
}

fn token(key: &Path, audience: &str, scope: &str, ttl: &str) -> String {
    skybridge(&[
        "token",
        "issue",
        "--key",
        key.to_str().expect("utf-8"),
        "--issuer",
        ISSUER,
        "--audience",
        audience,
        "--subject",
        "alice",
        "--scope",
        scope,
        "--ttl",
        ttl,
    ])
}

fn protected_config(dir: &TestDir, upstream: &Upstream, issuer: &str) -> PathBuf {
    let text = format!(
        "[listener]\naddress = \"127.0.0.1:0\"\n[admin]\naddress = \"127.0.0.1:0\"\n{issuer}\n{}\n\
         [[routes]]\nname = \"orders\"\npath_prefix = \"/orders\"\nupstream = \"echo\"\n\
         auth = {{ scopes = [\"orders.read\"] }}\n\
         [[routes]]\nname = \"open\"\npath_prefix = \"/open\"\nupstream = \"echo\"\n\
          auth = \"anonymous\"\n",
        mtls_upstream_block("echo", upstream.port(), &dir.certs, "")
    );
    dir.write("gateway.toml", &text)
}

async fn status_and_body(
    request: awc::ClientRequest,
) -> (StatusCode, awc::http::header::HeaderMap, Vec<u8>) {
    let mut response = request.send().await.expect("send");
    let body = response.body().await.expect("body").to_vec();
    (response.status(), response.headers().clone(), body)
}

#[actix_rt::test]
async fn tokens_for_a_jwks_file_issuer_are_checked_precisely() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let (key, jwks) = keys(dir.path());
    let issuer = format!(
        "[[issuers]]\nname = \"dev\"\nissuer = \"{ISSUER}\"\njwks_file = \"{}\"\n\
         audiences = [\"{AUDIENCE}\"]\n\
         algorithms = [\"RS256\"]\nleeway = \"1s\"\n",
        jwks.display()
    );
    let gateway = Gateway::start(&protected_config(&dir, &upstream, &issuer));
    let url = gateway.url("/orders/1");
    let good = token(&key, AUDIENCE, "orders.read other", "5m");

    // A valid token passes; identity headers are Skybridge's, never the caller's.
    let (status, _, body) = status_and_body(
        client()
            .get(&url)
            .insert_header(("authorization", format!("bearer {good}")))
            .insert_header(("x-skybridge-subject", "mallory"))
            .insert_header(("x-skybridge-admin", "true")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let echo: Value = serde_json::from_slice(&body).expect("echo");
    let headers = &echo["headers"];
    assert_eq!(headers["x-skybridge-subject"], "alice");
    assert_eq!(headers["x-skybridge-issuer"], ISSUER);
    assert_eq!(headers["x-skybridge-scopes"], "orders.read other");
    assert!(headers.get("x-skybridge-admin").is_none(), "{headers}");
    assert!(headers.get("authorization").is_none(), "the caller's token must not be forwarded");

    // Missing, malformed, tampered, wrong audience, missing scope, two headers, alg none.
    let (status, headers, body) = status_and_body(client().get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers.get("www-authenticate").expect("challenge").to_str().expect("ascii");
    assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
    assert_problem(&body, 401, "unauthenticated");

    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).expect("b64");
    signature[10] ^= 1;
    parts[2] = URL_SAFE_NO_PAD.encode(signature);
    let tampered = parts.join(".");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", good.split('.').nth(1).expect("payload"));
    let wrong_audience = token(&key, "api://other", "orders.read", "5m");
    for (name, value) in [
        ("malformed", "Bearer not.a.jwt".to_owned()),
        ("tampered", format!("Bearer {tampered}")),
        ("alg none", format!("Bearer {unsigned}")),
        ("wrong audience", format!("Bearer {wrong_audience}")),
        ("basic scheme", "Basic YWxpY2U6c2VjcmV0".to_owned()),
    ] {
        let (status, headers, body) =
            status_and_body(client().get(&url).insert_header(("authorization", value))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(headers.contains_key("www-authenticate"), "{name}");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(&good[..40]), "{name}: the token leaked into the body");
        assert_problem(&body, 401, "unauthenticated");
    }
    let two = client()
        .get(&url)
        .append_header(("authorization", format!("Bearer {good}")))
        .append_header(("authorization", format!("Bearer {good}")));
    assert_eq!(status_and_body(two).await.0, StatusCode::UNAUTHORIZED);

    let narrow = token(&key, AUDIENCE, "orders.write", "5m");
    let (status, headers, body) = status_and_body(
        client().get(&url).insert_header(("authorization", format!("Bearer {narrow}"))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = headers.get("www-authenticate").expect("challenge").to_str().expect("ascii");
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"orders.read\""),
        "{challenge}"
    );
    assert_problem(&body, 403, "forbidden");

    let short = token(&key, AUDIENCE, "orders.read", "1s");
    actix_rt::time::sleep(Duration::from_millis(3200)).await;
    let (status, _, _) = status_and_body(
        client().get(&url).insert_header(("authorization", format!("Bearer {short}"))),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired beyond the leeway");

    let metrics = common::metrics_text(&gateway).await;
    let refreshed = "skybridge_jwks_refreshes_total{issuer=\"dev\",outcome=\"ok\"}";
    assert!(metrics.contains(refreshed), "{metrics}");
    assert!(metrics.contains("skybridge_jwks_keys{issuer=\"dev\"} 1"), "{metrics}");

    // Anonymous routes pass the caller's Authorization through untouched.
    let (status, _, body) = status_and_body(
        client().get(gateway.url("/open")).insert_header(("authorization", "Bearer opaque")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let echo: Value = serde_json::from_slice(&body).expect("echo");
    assert_eq!(echo["headers"]["authorization"], "Bearer opaque");
}

#[actix_rt::test]
async fn a_real_oidc_provider_through_rotation_and_outage() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let mut provider = OidcProvider::start().expect("oidc-provider starts");
    let issuer = format!(
        "[[issuers]]\nname = \"idp\"\nissuer = \"{}\"\n\
         discovery_url = \"{}/.well-known/openid-configuration\"\n\
         audiences = [\"{}\"]\n",
        provider.issuer, provider.issuer, provider.resource
    );
    let gateway = Gateway::start(&protected_config(&dir, &upstream, &issuer));
    let url = gateway.url("/orders/42");
    let call = |token: String| {
        let url = url.clone();
        async move {
            let mut response = client()
                .get(&url)
                .insert_header(("authorization", format!("Bearer {token}")))
                .send()
                .await
                .expect("send");
            let body = response.body().await.expect("body");
            (response.status(), body)
        }
    };

    let before = provider.access_token("orders.read").await;
    let (status, body) = call(before.clone()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let echo: Value = serde_json::from_slice(&body).expect("echo");
    assert_eq!(echo["client_certificate"], "gateway-client");
    assert_eq!(echo["headers"]["x-skybridge-client-id"], provider.client_id.as_str());

    provider.rotate().expect("rotate");
    let after = provider.access_token("orders.read").await;
    assert_ne!(before, after);
    assert_eq!(call(after.clone()).await.0, StatusCode::OK, "a token signed with the new key");

    provider.stop().expect("stop");
    assert_eq!(call(after).await.0, StatusCode::OK, "cached keys outlive the provider");
    assert_eq!(call(before).await.0, StatusCode::OK);
}
