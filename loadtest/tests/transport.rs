//! End to end against the demo upstream directly: TLS and mutual TLS with certificates made
//! here, a token pool that never reaches the report, and the refusals that protect hosts
//! other than this one.

mod common;

use common::certs::Certs;
use common::{LoadRun, Upstream};

fn tls_upstream(certs: &Certs, mutual: bool) -> Upstream {
    let mut args = vec![
        "--cert".as_ref(),
        certs.server_cert.as_os_str(),
        "--key".as_ref(),
        certs.server_key.as_os_str(),
    ];
    if mutual {
        args.extend(["--client-ca".as_ref(), certs.ca.as_os_str()]);
    }
    Upstream::start(&args)
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn steady_over_tls_and_mutual_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path());
    let tls = tls_upstream(&certs, false);
    let url = format!("https://localhost:{}", tls.address.port());
    let args = ["--target", &url, "--suite", "steady", "--short", "--ca", path(&certs.ca)];
    assert_eq!(LoadRun::run(&args).passed()["transport"], "tls");

    let mtls = tls_upstream(&certs, true);
    let url = format!("https://localhost:{}", mtls.address.port());
    let mut args = vec!["--target", &url, "--suite", "steady", "--short", "--ca", path(&certs.ca)];
    // Without a client certificate every request fails the handshake, and the run says so.
    let refused = LoadRun::run(&args);
    assert_eq!(refused.code(), 1);
    let failures = &refused.report()["requests"]["failures"];
    assert!(
        failures["tls"].as_u64().unwrap_or(0) + failures["closed"].as_u64().unwrap_or(0) > 0,
        "{failures}"
    );
    args.extend(["--cert", path(&certs.client_cert), "--key", path(&certs.client_key)]);
    assert_eq!(LoadRun::run(&args).passed()["transport"], "mtls");
}

#[test]
fn an_untrusted_server_is_a_tls_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path());
    let other = tempfile::tempdir().expect("tempdir");
    let other_certs = Certs::generate(other.path());
    let upstream = tls_upstream(&certs, false);
    let url = format!("https://localhost:{}", upstream.address.port());
    let args = ["--target", &url, "--suite", "steady", "--short", "--ca", path(&other_certs.ca)];
    let run = LoadRun::run(&args);
    assert_eq!(run.code(), 1);
    assert_eq!(run.report()["requests"]["failures"]["tls"], 200);
}

#[test]
fn token_churn_cycles_the_pool_and_keeps_it_secret() {
    let upstream = Upstream::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens: Vec<String> =
        (0..40).map(|i| format!("eyJhbGciOiJSUzI1NiJ9.c2VjcmV0{i}.c2ln")).collect();
    let file = dir.path().join("tokens.txt");
    std::fs::write(&file, tokens.join("\n")).expect("write tokens");
    let url = format!("http://{}", upstream.address);
    let base =
        ["--target", url.as_str(), "--suite", "token-churn", "--short", "--tokens", path(&file)];
    let mut args = base.to_vec();
    args.extend(["--token-cache-size", "11"]);
    let refused = LoadRun::run(&args);
    assert_eq!(refused.code(), 2);
    assert!(refused.stderr().contains("at least 44 distinct tokens"), "{}", refused.stderr());
    let mut args = base.to_vec();
    args.extend(["--token-cache-size", "10"]);
    let run = LoadRun::run(&args);
    let report = serde_json::to_string(run.passed()).expect("json");
    for token in &tokens {
        assert!(!report.contains(token.as_str()) && !run.stdout().contains(token.as_str()));
        assert!(!run.stderr().contains(token.as_str()));
    }
}

#[test]
fn targets_off_loopback_are_refused_before_any_connection() {
    for target in ["http://10.1.2.3:80", "http://169.254.169.254/", "http://example.com/"] {
        let run = LoadRun::run(&["--target", target, "--suite", "steady", "--short"]);
        assert_eq!(run.code(), 2, "{target}");
        assert!(run.stderr().contains("not a loopback address"), "{}", run.stderr());
        assert!(run.report.is_none(), "no report for a refused target");
    }
}
