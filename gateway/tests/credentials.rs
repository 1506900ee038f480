//! Upstream credentials through the real binary: a self-signed token verified by the
//! upstream against the gateway's own published JWKS, and a credential that cannot be
//! obtained answered with 503 and reported by readiness.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use awc::http::StatusCode;
use common::{Gateway, Running, START_TIMEOUT, TestDir, assert_problem, client};
use serde_json::Value;

fn upstream_block(port: u16, dir: &TestDir) -> String {
    format!(
        "[[upstreams]]\nname = \"echo\"\nurl = \"https://localhost:{port}\"\n\
         credential = \"self\"\n\
         [upstreams.tls]\nca = \"{ca}\"\nclient_certificate = \"{cert}\"\n\
          client_private_key = \"{key}\"\n",
        ca = dir.certs.ca.display(),
        cert = dir.certs.gateway_client.cert.display(),
        key = dir.certs.gateway_client.key.display(),
    )
}

#[actix_rt::test]
async fn self_signed_tokens_verify_against_the_published_keys() {
    let dir = TestDir::new();
    let keys = dir.path().join("keys");
    let status = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["keys", "generate", "--alg", "ES256", "--out"])
        .arg(&keys)
        .status()
        .expect("keys generate");
    assert!(status.success());
    let head = format!(
        r#"
[listener]
address = "127.0.0.1:0"
[admin]
address = "127.0.0.1:0"
[[credentials]]
name = "self"
kind = "self_signed"
audience = "https://echo.internal"
issuer = "https://skybridge.test"
signing_keys = "{keys}"
publish_delay = "0s"
ttl = "2m"
[[routes]]
name = "all"
path_prefix = "/"
upstream = "echo"
auth = "anonymous"
"#,
        keys = keys.display()
    );
    // The upstream needs the gateway's address and the gateway the upstream's: start the
    // gateway pointing nowhere, then reload it once the upstream is up.
    let placeholder =
        TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let path = dir.write("gateway.toml", &(head.clone() + &upstream_block(placeholder, &dir)));
    let mut gateway = Gateway::start(&path);
    let jwks_url = gateway.url("/.well-known/jwks.json");
    let mut jwks = client().get(&jwks_url).send().await.expect("jwks");
    assert_eq!(jwks.status(), StatusCode::OK);
    let published: Value = jwks.json().await.expect("jwks json");
    assert_eq!(published["keys"].as_array().map(Vec::len), Some(1), "{published}");
    assert!(published.to_string().contains("\"crv\":\"P-256\""), "{published}");
    assert!(!published.to_string().contains("\"d\""), "private key material published");

    let mut command = Command::new(env!("CARGO_BIN_EXE_skybridge-demo-upstream"));
    command
        .args(["--listen", "127.0.0.1:0", "--cert"])
        .arg(&dir.certs.upstream.cert)
        .arg("--key")
        .arg(&dir.certs.upstream.key)
        .arg("--client-ca")
        .arg(&dir.certs.ca)
        .args(["--verify-jwks-url", &jwks_url, "--verify-audience", "https://echo.internal"]);
    let mut upstream = Running::spawn(command);
    let line = upstream.wait_for_line(START_TIMEOUT, |l| l.contains("listening"));
    let port: u16 = serde_json::from_str::<Value>(&line).expect("json")["listening"]
        .as_str()
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    std::fs::write(&path, head + &upstream_block(port, &dir)).expect("rewrite");
    gateway.process.signal(libc::SIGHUP);
    gateway
        .process
        .wait_for_line(Duration::from_secs(5), |l| l.contains("Configuration reloaded."));

    for _ in 0..3 {
        let mut response = client()
            .get(gateway.url("/orders"))
            .insert_header(("authorization", "Bearer caller-token-must-not-pass"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        let echo: Value = response.json().await.expect("echo");
        let claims = &echo["verified_token"];
        assert_eq!(claims["iss"], "https://skybridge.test", "{echo}");
        assert_eq!(claims["aud"], "https://echo.internal");
        assert!(claims["jti"].is_string() && claims["exp"].is_u64() && claims["iat"].is_u64());
        assert!(!echo.to_string().contains("caller-token-must-not-pass"));
    }
}

#[actix_rt::test]
async fn an_unobtainable_credential_is_503_and_not_ready() {
    let dir = TestDir::new();
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let text = format!(
        r#"
[listener]
address = "127.0.0.1:0"
[admin]
address = "127.0.0.1:0"
[[credentials]]
name = "meta"
kind = "gce_metadata"
audience = "https://orders.example"
metadata_url = "http://127.0.0.1:{closed}"
[[upstreams]]
name = "echo"
url = "http://127.0.0.1:{closed}"
credential = "meta"
[[routes]]
name = "all"
path_prefix = "/"
upstream = "echo"
auth = "anonymous"
"#
    );
    let gateway = Gateway::start(&dir.write("gateway.toml", &text));
    let mut response = client().get(gateway.url("/x")).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers().get("retry-after").expect("retry-after"), "1");
    assert_problem(&response.body().await.expect("body"), 503, "credential-unavailable");

    let mut readiness = client().get(gateway.admin_url("/readyz")).send().await.expect("readyz");
    let body: Value = readiness.json().await.expect("json");
    let component = &body["components"]["credential:meta"];
    assert_ne!(component["state"], "ready", "{body}");
    assert!(component["detail"].is_string(), "{body}");
    let metrics = common::metrics_text(&gateway).await;
    let failed = "skybridge_token_mints_total{credential=\"meta\",outcome=\"failed\"}";
    assert!(metrics.contains(failed), "{metrics}");
}
