//! SIGHUP reloads the configuration atomically under load; a broken file changes nothing.

mod common;

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use common::{Gateway, TestDir, Upstream, client, mtls_upstream_block};

fn config(dir: &TestDir, upstream: &Upstream, prefixes: &[&str]) -> String {
    let mut text = format!(
        "[listener]\naddress = \"127.0.0.1:0\"\n[admin]\naddress = \"127.0.0.1:0\"\n{}",
        mtls_upstream_block("echo", upstream.port(), &dir.certs, "")
    );
    for (index, prefix) in prefixes.iter().enumerate() {
        text += &format!(
            "[[routes]]\nname = \"r{index}\"\npath_prefix = \"{prefix}\"\nupstream = \"echo\"\n\
             auth = \"anonymous\"\n"
        );
    }
    text
}

#[actix_rt::test]
async fn sighup_swaps_routes_under_load_and_rejects_a_broken_file() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let path = dir.write("gateway.toml", &config(&dir, &upstream, &["/a"]));
    let mut gateway = Gateway::start(&path);
    let status = |url: String| async move { client().get(url).send().await.map(|r| r.status()) };
    assert_eq!(status(gateway.url("/b/1")).await.expect("send"), StatusCode::NOT_FOUND);

    // Steady load on /a while the route table changes underneath.
    let load_url = gateway.url("/a/steady");
    let load = actix_rt::spawn(async move {
        let (mut ok, mut failed) = (0u32, 0u32);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match client().get(&load_url).send().await {
                Ok(response) if response.status() == StatusCode::OK => ok += 1,
                _ => failed += 1,
            }
        }
        (ok, failed)
    });

    std::fs::write(&path, config(&dir, &upstream, &["/a", "/b"])).expect("rewrite");
    gateway.process.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if status(gateway.url("/b/1")).await.expect("send") == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the new route never appeared");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    gateway
        .process
        .wait_for_line(Duration::from_secs(5), |l| l.contains("Configuration reloaded."));

    std::fs::write(&path, "[[routes]]\nname = \"broken\"\n").expect("break the file");
    gateway.process.signal(libc::SIGHUP);
    gateway.process.wait_for_line(Duration::from_secs(5), |l| l.contains("Reload rejected"));
    assert_eq!(status(gateway.url("/b/1")).await.expect("send"), StatusCode::OK);
    assert_eq!(status(gateway.url("/a/1")).await.expect("send"), StatusCode::OK);

    let (ok, failed) = load.await.expect("load task");
    assert!(ok > 10, "only {ok} requests completed");
    assert_eq!(failed, 0, "{failed} requests failed during the reload");
}

/// The common name of the certificate the listener presents to a new connection.
fn presented_cn(address: std::net::SocketAddr, ca: &std::path::Path) -> String {
    use openssl::ssl::{SslConnector, SslMethod};
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    builder.set_ca_file(ca).expect("ca");
    let connector = builder.build();
    let tcp = std::net::TcpStream::connect(address).expect("connect");
    let tls = connector.connect("localhost", tcp).expect("handshake");
    let cert = tls.ssl().peer_certificate().expect("certificate");
    cert.subject_name().entries().next().expect("cn").data().to_string().expect("utf-8")
}

#[actix_rt::test]
async fn sighup_swaps_the_listener_certificate() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let with_cert = |pair: &common::certs::Pair| {
        config(&dir, &upstream, &["/"]).replacen(
            "[admin]",
            &format!(
                "[listener.tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n[admin]",
                pair.cert.display(),
                pair.key.display()
            ),
            1,
        )
    };
    let path = dir.write("gateway.toml", &with_cert(&dir.certs.gateway_server));
    let mut gateway = Gateway::start(&path);
    assert_eq!(presented_cn(gateway.public, &dir.certs.ca), "gateway");

    // Any certificate for localhost from the same CA will do as the "renewed" one.
    std::fs::write(&path, with_cert(&dir.certs.upstream)).expect("rewrite");
    gateway.process.signal(libc::SIGHUP);
    gateway
        .process
        .wait_for_line(Duration::from_secs(5), |l| l.contains("Configuration reloaded."));
    assert_eq!(presented_cn(gateway.public, &dir.certs.ca), "upstream");
}

#[actix_rt::test]
async fn a_changed_file_is_picked_up_without_a_signal() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let path = dir.write("gateway.toml", &config(&dir, &upstream, &["/a"]));
    let mut gateway = Gateway::start(&path);
    let status = |url: String| async move { client().get(url).send().await.map(|r| r.status()) };
    assert_eq!(status(gateway.url("/c/1")).await.expect("send"), StatusCode::NOT_FOUND);
    std::fs::write(&path, config(&dir, &upstream, &["/a", "/c"])).expect("rewrite");
    gateway
        .process
        .wait_for_line(Duration::from_secs(10), |l| l.contains("Configuration reloaded."));
    assert_eq!(status(gateway.url("/c/1")).await.expect("send"), StatusCode::OK);
}

#[actix_rt::test]
async fn a_reload_that_changes_restart_only_sections_is_refused() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let path = dir.write("gateway.toml", &config(&dir, &upstream, &["/a"]));
    let mut gateway = Gateway::start(&path);
    let policy =
        "[[rate_limit.policies]]\nname = \"new\"\nlimit = 1\nperiod = \"60s\"\nkey = \"route\"\n";
    let changed = config(&dir, &upstream, &["/a"])
        .replace("auth = \"anonymous\"\n", "auth = \"anonymous\"\nrate_limits = [\"new\"]\n")
        + policy;
    std::fs::write(&path, changed).expect("rewrite");
    gateway.process.signal(libc::SIGHUP);
    let line =
        gateway.process.wait_for_line(Duration::from_secs(5), |l| l.contains("\"rate_limit\""));
    assert!(line.contains("restart"), "{line}");
    gateway.process.wait_for_line(Duration::from_secs(5), |l| l.contains("Reload rejected"));
    // Still the old configuration: the route is not limited.
    for _ in 0..3 {
        let response = client().get(gateway.url("/a/1")).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("ratelimit-policy").is_none());
    }
}
