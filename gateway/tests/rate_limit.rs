//! Rate limits through the real binary: three instances sharing a real Redis give one answer
//! whichever instance a request reaches, and without Redis each instance limits in process.

mod common;

use awc::http::StatusCode;
use common::{Gateway, Redis, TestDir, Upstream, assert_problem, client};
use serde_json::Value;

fn config(
    dir: &TestDir,
    upstream: &Upstream,
    name: &str,
    rate_limit: &str,
    policy: &str,
) -> std::path::PathBuf {
    let text = format!(
        r#"
[listener]
address = "127.0.0.1:0"
[admin]
address = "127.0.0.1:0"
[rate_limit]
{rate_limit}
[[rate_limit.policies]]
{policy}
[[upstreams]]
name = "echo"
url = "http://127.0.0.1:{port}"
[[routes]]
name = "limited"
path_prefix = "/"
upstream = "echo"
auth = "anonymous"
rate_limits = ["shared"]
[[routes]]
name = "warm"
path_prefix = "/warm"
upstream = "echo"
auth = "anonymous"
"#,
        port = upstream.port()
    );
    dir.write(name, &text)
}

#[actix_rt::test]
async fn three_instances_sharing_redis_admit_exactly_the_limit() {
    let dir = TestDir::new();
    let upstream = Upstream::plain();
    let redis = Redis::start();
    let path = config(
        &dir,
        &upstream,
        "gateway.toml",
        &format!("redis_url = \"{}\"\ntimeout = \"250ms\"", redis.url()),
        "name = \"shared\"\nlimit = 10\nperiod = \"60s\"\nkey = \"route\"",
    );
    let gateways: Vec<Gateway> = (0..3).map(|_| Gateway::start(&path)).collect();
    // Warm each instance's connection to the upstream so that the burst itself is fast.
    for gateway in &gateways {
        let _ = client().get(gateway.url("/warm")).send().await.expect("warm-up");
    }
    let started = std::time::Instant::now();
    let responses = futures_util::future::join_all(
        (0..40).map(|index| client().get(gateways[index % 3].url("/x")).send()),
    )
    .await;
    let elapsed = started.elapsed();
    // The GCRA wait after a burst of 10 in 60 s is 6 s minus the time the burst took.
    let expected_retry = if elapsed.as_millis() < 1000 { 6 } else { 6 - elapsed.as_secs().min(5) };
    let (mut allowed, mut limited) = (0, 0);
    for response in responses {
        let mut response = response.expect("send");
        let headers = response.headers().clone();
        let policy =
            headers.get("ratelimit-policy").expect("RateLimit-Policy").to_str().expect("ascii");
        assert!(
            policy.contains("\"shared\"") && policy.contains("q=10") && policy.contains("w=60"),
            "{policy}"
        );
        assert!(headers.get("ratelimit").is_some());
        match response.status() {
            StatusCode::OK => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                let retry: u64 = headers
                    .get("retry-after")
                    .expect("Retry-After")
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds");
                assert!(
                    retry == expected_retry || retry == 6,
                    "Retry-After {retry} after {elapsed:?}"
                );
                let problem =
                    assert_problem(&response.body().await.expect("body"), 429, "quota-exceeded");
                assert_eq!(problem["violated-policies"], serde_json::json!(["shared"]));
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((allowed, limited), (10, 30));
    let metrics = common::metrics_text(&gateways[1]).await;
    assert!(
        metrics.contains("skybridge_rate_limit_decisions_total{source=\"redis\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("skybridge_redis_call_duration_seconds_count{outcome=\"ok\"}"),
        "{metrics}"
    );
    let mut readiness =
        client().get(gateways[0].admin_url("/readyz")).send().await.expect("readyz");
    let body: Value = readiness.json().await.expect("json");
    assert_eq!(body["components"]["rate_limit"]["state"], "ready", "{body}");
}

#[actix_rt::test]
async fn without_redis_each_key_is_limited_in_process() {
    let dir = TestDir::new();
    let upstream = Upstream::plain();
    let path = config(
        &dir,
        &upstream,
        "gateway.toml",
        "",
        "name = \"shared\"\nlimit = 3\nperiod = \"60s\"\nkey = \"header:x-api-key\"",
    );
    let gateway = Gateway::start(&path);
    for key in ["alice", "bob"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let response = client()
                .get(gateway.url("/x"))
                .insert_header(("x-api-key", key))
                .send()
                .await
                .expect("send");
            statuses.push(response.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 429], "{key}");
    }
}
