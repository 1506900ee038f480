//! The main job of issue 7, end to end through the real binaries. A caller holding a token
//! from a real OpenID provider (`oidc-provider` under Node) goes through nginx to one of three
//! Skybridge instances sharing one rate limit in a real Redis. Skybridge obtains a Google ID
//! token the Azure workload identity way (Azure identity endpoint, Google STS, IAM
//! Credentials: the local fakes, which check every request against the protocol note) and
//! forwards over mutual TLS to the demo upstream, which verifies that token like Cloud Run.
//! Every request's audit record reaches the real collector (rotel → `scripts/otlp-sink.py`)
//! and is found again by its trace id with `skybridge audit query`.

#[path = "main_job/chain.rs"]
mod chain;
mod common;
mod doctor_support;
#[path = "../../actors/tests/common/mod.rs"]
mod fakes;
#[allow(dead_code)]
#[path = "cluster/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../../actors/tests/idp/oidc_provider.rs"]
mod oidc_provider;
#[path = "../../actors/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use chain::{AUDIENCE, cloud_run, direct_status, main_job_config};
use common::{TestDir, assert_problem, client};
use doctor_support::StaticServer;
use fakes::issuer::GOOGLE_ISSUER;
use fakes::{AZURE_VM, Fakes, IAM, STS};
use harness::{Cluster, audit_query};
use oidc_provider::OidcProvider;
use serde_json::Value;

/// The route's policy (`ten-per-minute` of the cluster harness), shared by all instances.
const LIMIT: usize = 10;
/// Requests sent in the burst; all but `LIMIT` must be refused.
const SENT: usize = 25;

/// One request of the burst and what the caller got.
struct Sent {
    trace: String,
    request_id: String,
    status: StatusCode,
}

/// Sends `SENT` requests one after the other through nginx, each with its own trace and
/// request id, and checks every answer: an echo of a verified Google ID token, or 429.
async fn burst(cluster: &Cluster, provider: &OidcProvider, token: &str) -> Vec<Sent> {
    let mut sent = Vec::new();
    for n in 0..SENT {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        let request_id = format!("main-job-{n}");
        let mut response = client()
            .get(cluster.nginx.url(&format!("/orders/{n}")))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("traceparent", format!("00-{trace}-00f067aa0ba902b7-01")))
            .insert_header(("x-request-id", request_id.as_str()))
            .send()
            .await
            .expect("request through nginx");
        let status = response.status();
        let body = response.body().await.expect("body").to_vec();
        if n < LIMIT {
            assert_eq!(status, StatusCode::OK, "{n}: {}", String::from_utf8_lossy(&body));
            check_echo(&body, provider, token, &trace);
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{n} is over the limit");
            assert!(response.headers().contains_key("retry-after"), "{n}: no Retry-After");
            assert_problem(&body, 429, "quota-exceeded");
        }
        sent.push(Sent { trace, request_id, status });
    }
    sent
}

/// The upstream saw a Google ID token it verified, the gateway's client certificate, the
/// caller's identity in Skybridge's headers, the caller's trace; never the caller's token.
fn check_echo(body: &[u8], provider: &OidcProvider, token: &str, trace: &str) {
    let echo: Value = serde_json::from_slice(body).expect("echo json");
    let claims = &echo["verified_token"];
    assert_eq!(claims["iss"], GOOGLE_ISSUER, "{echo}");
    assert_eq!(claims["aud"], AUDIENCE, "{echo}");
    assert_eq!(claims["email"], "runner@test-project.iam.gserviceaccount.com", "{echo}");
    assert_eq!(echo["client_certificate"], "gateway-client", "{echo}");
    let headers = &echo["headers"];
    assert_eq!(headers["x-skybridge-client-id"], provider.client_id.as_str(), "{echo}");
    let parent = headers["traceparent"].as_str().expect("traceparent forwarded");
    assert!(parent.contains(trace), "trace {trace} not continued upstream: {parent}");
    assert!(!echo.to_string().contains(token), "the caller's token went upstream");
}

/// Waits until the collector's output holds `count` records of the route.
fn wait_for_records(trail: &std::path::Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = audit_query(trail, &["--route", "orders"]).len();
        if found >= count {
            return;
        }
        assert!(Instant::now() < deadline, "only {found} of {count} audit records arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Finds every request's record by its trace id; returns the instances that wrote them.
fn check_trail(trail: &std::path::Path, sent: &[Sent]) -> BTreeSet<String> {
    wait_for_records(trail, sent.len());
    let mut instances = BTreeSet::new();
    for request in sent {
        let records = audit_query(trail, &["--trace-id", &request.trace]);
        assert_eq!(records.len(), 1, "trace {}: {records:#?}", request.trace);
        let record = &records[0];
        let attributes = &record["attributes"];
        let allowed = request.status == StatusCode::OK;
        let decision = if allowed { "allow" } else { "deny" };
        assert_eq!(attributes["skybridge.decision"], decision, "{record:#}");
        assert_eq!(attributes["http.response.status_code"], request.status.as_u16(), "{record:#}");
        assert_eq!(attributes["skybridge.request_id"], request.request_id.as_str(), "{record:#}");
        assert_eq!(attributes["skybridge.route"], "orders", "{record:#}");
        if allowed {
            assert_eq!(attributes["skybridge.credential"], "orders", "{record:#}");
            assert_eq!(attributes["skybridge.upstream.status"], 200, "{record:#}");
        }
        let instance = record["resource"]["service.instance.id"].as_str().expect("instance id");
        instances.insert(instance.to_owned());
    }
    instances
}

/// Stops every instance (SIGTERM flushes its audit sink), first checking that nothing it
/// logged holds a token: no JWT (they all start `eyJ`), no federated access token.
fn stop_cluster(cluster: &mut Cluster) {
    for index in 0..3 {
        let gateway = cluster.instances[index].gateway.as_mut().expect("running");
        let logs = gateway.process.drain().join("\n");
        assert!(!logs.contains("eyJ") && !logs.contains("ya29."), "a token was logged:\n{logs}");
        cluster.stop_instance(index);
    }
}

#[actix_rt::test]
async fn a_caller_reaches_cloud_run_through_the_whole_chain() {
    let fakes = Fakes::start().await;
    let keys = StaticServer::start();
    let google_jwks = keys.set("/google-keys", fakes.state.issuer.jwks());
    // The in-process servers start their workers once the runtime runs them: let it, before
    // the test blocks on starting processes.
    actix_rt::time::sleep(Duration::from_millis(50)).await;
    let dir = TestDir::new();
    let (_upstream, port) = cloud_run(&dir, &google_jwks);
    let provider = OidcProvider::start().expect("oidc-provider starts");
    let token = provider.access_token("orders.read").await;

    // The upstream refuses what Cloud Run would refuse: the caller's own token, and a Google
    // ID token for another audience; it takes a Google ID token for its own.
    assert_eq!(direct_status(&dir, port, &token).await, StatusCode::UNAUTHORIZED);
    let lifetime = Duration::from_secs(300);
    let other = fakes.state.issuer.id_token("https://other.a.run.app", "x@test", lifetime);
    assert_eq!(direct_status(&dir, port, &other).await, StatusCode::UNAUTHORIZED);
    let right = fakes.state.issuer.id_token(AUDIENCE, "x@test", lifetime);
    assert_eq!(direct_status(&dir, port, &right).await, StatusCode::OK);

    let mut cluster = Cluster::start(true, &main_job_config(&fakes, &provider, &dir, port));
    let started = Instant::now();
    let sent = burst(&cluster, &provider, &token).await;
    // The policy admits one more request every 6 s: the exact split holds only for a burst
    // well inside that.
    assert!(started.elapsed() < Duration::from_secs(5), "burst too slow: {:?}", started.elapsed());

    stop_cluster(&mut cluster);
    let trail = cluster.collector.as_ref().expect("collector").sink.out.clone();
    let instances = check_trail(&trail, &sent);
    assert_eq!(instances, BTreeSet::from(["gw-1", "gw-2", "gw-3"].map(str::to_owned)));

    // Each instance minted once at start and reused its token; every exchange was by the book.
    assert_eq!((fakes.count(AZURE_VM), fakes.count(STS), fakes.count(IAM)), (3, 3, 3));
    fakes.assert_no_violations();
}
