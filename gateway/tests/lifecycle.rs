//! Listener behaviour: HTTPS with client certificates, the admin endpoints, and graceful
//! shutdown on SIGTERM and SIGINT.

mod common;

use std::time::Duration;

use awc::http::StatusCode;
use common::{Gateway, TestDir, Upstream, client, mtls_upstream_block, tls_client};
use serde_json::Value;

fn gateway_config(dir: &TestDir, upstream: &Upstream, listener_extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[listener]
address = "127.0.0.1:0"
shutdown_timeout = "10s"
{listener_extra}
[admin]
address = "127.0.0.1:0"
{upstream}
[[routes]]
name = "all"
path_prefix = "/"
upstream = "echo"
auth = "anonymous"
"#,
        upstream = mtls_upstream_block("echo", upstream.port(), &dir.certs, ""),
    );
    dir.write("gateway.toml", &text)
}

#[actix_rt::test]
async fn https_listener_requires_a_client_certificate_from_the_configured_ca() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let tls = format!(
        "[listener.tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\nclient_ca = \"{}\"\n",
        dir.certs.gateway_server.cert.display(),
        dir.certs.gateway_server.key.display(),
        dir.certs.ca.display()
    );
    let gateway = Gateway::start(&gateway_config(&dir, &upstream, &tls));
    let url = format!("https://localhost:{}/x", gateway.public.port());

    let mut response = tls_client(&dir.certs.ca, Some(&dir.certs.caller))
        .get(&url)
        .send()
        .await
        .expect("mTLS request");
    assert_eq!(response.status(), StatusCode::OK);
    let echo: Value = response.json().await.expect("json");
    assert_eq!(echo["headers"]["x-forwarded-proto"], "https");

    let without = tls_client(&dir.certs.ca, None).get(&url).send().await;
    assert!(without.is_err(), "a caller without a certificate must be refused");
    let rogue = tls_client(&dir.certs.ca, Some(&dir.certs.rogue_caller)).get(&url).send().await;
    assert!(rogue.is_err(), "a certificate from another CA must be refused");
}

#[actix_rt::test]
async fn health_and_readiness_on_the_admin_listener_only() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let gateway = Gateway::start(&gateway_config(&dir, &upstream, ""));
    let mut response = client().get(gateway.admin_url("/healthz")).send().await.expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    let mut response = client().get(gateway.admin_url("/readyz")).send().await.expect("readyz");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    // The public listener forwards /readyz like any other path: it is the upstream's.
    let mut response = client().get(gateway.url("/readyz")).send().await.expect("public");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["path"], "/readyz");

    let missing = client().get(gateway.url("/x/../..")).send().await.expect("send");
    assert_eq!(missing.status(), StatusCode::OK);
    let mut response = client().get(gateway.admin_url("/metrics")).send().await.expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(response.body().await.expect("body").to_vec()).expect("utf-8");
    let line = "skybridge_requests_total{decision=\"allow\",route=\"all\",status=\"200\"} 2";
    assert!(text.contains(line), "{text}");
    assert!(
        text.contains("skybridge_upstream_duration_seconds_count{upstream=\"echo\"} 2"),
        "{text}"
    );
}

async fn in_flight_request_survives(signal: i32) {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let gateway = Gateway::start(&gateway_config(&dir, &upstream, "drain_delay = \"300ms\""));
    let slow = client().get(gateway.url("/_demo/delay/1500")).send();
    let slow = actix_rt::spawn(slow);
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    gateway.process.signal(signal);
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    // While draining, readiness fails so that a load balancer moves away.
    let readiness = client().get(gateway.admin_url("/readyz")).send().await.expect("readyz");
    assert_eq!(readiness.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = slow.await.expect("join").expect("in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    let mut process = gateway.process;
    let status = process.wait_exit(Duration::from_secs(15)).expect("exits after draining");
    assert!(status.success(), "exit status {status:?}");
    // Nothing accepts connections any more.
    assert!(std::net::TcpStream::connect(gateway.public).is_err());
}

#[actix_rt::test]
async fn sigterm_drains_in_flight_requests_then_exits_zero() {
    in_flight_request_survives(libc::SIGTERM).await;
}

#[actix_rt::test]
async fn sigint_drains_in_flight_requests_then_exits_zero() {
    in_flight_request_survives(libc::SIGINT).await;
}
