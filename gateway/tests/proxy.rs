//! Black-box tests of routing and forwarding: the real `skybridge` binary in front of the
//! demo upstream over mutual TLS, with certificates generated per test.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use common::{
    Gateway, TestDir, Upstream, assert_problem, client, mtls_upstream_block, raw_request,
};
use serde_json::Value;

/// A gateway with several routes in front of one mTLS upstream, plus broken upstreams.
struct Fixture {
    gateway: Gateway,
    _upstream: Upstream,
    _rogue: Upstream,
    _hanging: TcpListener,
    _dir: TestDir,
}

fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn fixture() -> Fixture {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let rogue = Upstream::rogue(&dir.certs);
    // Accepts connections (the kernel completes the handshake) and never answers.
    let hanging = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hanging_port = hanging.local_addr().expect("addr").port();
    let mut text = format!(
        r#"
[listener]
address = "127.0.0.1:0"
max_body_bytes = 1048576
shutdown_timeout = "5s"
[admin]
address = "127.0.0.1:0"

[[upstreams]]
name = "refused"
url = "http://127.0.0.1:{closed}"
[[upstreams]]
name = "hanging"
url = "http://127.0.0.1:{hanging_port}"
request_timeout = "500ms"
[[upstreams]]
name = "rogue"
url = "https://localhost:{rogue}"
[upstreams.tls]
ca = "{ca}"
"#,
        closed = closed_port(),
        rogue = rogue.port(),
        ca = dir.certs.ca.display(),
    );
    text += &mtls_upstream_block("echo", upstream.port(), &dir.certs, "");
    for (name, prefix, methods, upstream) in [
        ("orders-read", "/orders", r#"["GET", "HEAD"]"#, "echo"),
        ("orders-write", "/orders", r#"["POST"]"#, "echo"),
        ("public", "/public", "[]", "echo"),
        ("refused", "/refused", "[]", "refused"),
        ("hanging", "/hanging", "[]", "hanging"),
        ("rogue", "/rogue", "[]", "rogue"),
    ] {
        text += &format!(
            "[[routes]]\nname = \"{name}\"\npath_prefix = \"{prefix}\"\nmethods = {methods}\n\
             upstream = \"{upstream}\"\nauth = \"anonymous\"\n"
        );
    }
    let config = dir.write("gateway.toml", &text);
    let gateway = Gateway::start(&config);
    Fixture { gateway, _upstream: upstream, _rogue: rogue, _hanging: hanging, _dir: dir }
}

async fn echo(
    response: &mut awc::ClientResponse<
        impl futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
    >,
) -> Value {
    let body = response.body().limit(1 << 20).await.expect("body");
    serde_json::from_slice(&body).expect("echo json")
}

#[actix_rt::test]
async fn forwards_over_mtls_with_clean_headers() {
    let fx = fixture();
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut response = client()
        .get(fx.gateway.url("/orders/a%20b/./1?x=1&y=%2F"))
        .insert_header(("x-request-id", "caller-id.1_2-3"))
        .insert_header(("traceparent", traceparent))
        .insert_header(("tracestate", "vendor=1"))
        .insert_header(("x-forwarded-for", "10.0.0.1"))
        .insert_header(("x-custom", "kept"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("x-request-id").expect("id"), "caller-id.1_2-3");
    let echo = echo(&mut response).await;
    assert_eq!(echo["client_certificate"], "gateway-client", "{echo}");
    assert_eq!(echo["path"], "/orders/a%20b/1");
    assert_eq!(echo["query"], "x=1&y=%2F");
    let headers = &echo["headers"];
    assert_eq!(headers["x-custom"], "kept");
    assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-forwarded-host"], fx.gateway.public.to_string());
    assert_eq!(headers["x-request-id"], "caller-id.1_2-3");
    assert_eq!(headers["tracestate"], "vendor=1");
    let upstream_trace = headers["traceparent"].as_str().expect("traceparent");
    assert!(upstream_trace.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{upstream_trace}");
    assert!(!upstream_trace.contains("00f067aa0ba902b7"), "a new span id is expected");
}

#[actix_rt::test]
async fn hop_by_hop_headers_are_not_forwarded() {
    let fx = fixture();
    // Raw bytes, because HTTP clients manage `Connection` themselves.
    let answer = raw_request(
        fx.gateway.public,
        b"GET /public/h HTTP/1.1\r\nHost: gw\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\n\
          Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\
          Upgrade: websocket\r\nX-Kept: yes\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").expect("head end") + 4..];
    let echo: Value = serde_json::from_str(body).expect("echo json");
    let headers = echo["headers"].as_object().expect("headers");
    for hop in ["x-hop", "keep-alive", "te", "proxy-authorization", "upgrade"] {
        assert!(!headers.contains_key(hop), "{hop} forwarded: {headers:?}");
    }
    assert_eq!(headers["x-kept"], "yes");
}

#[actix_rt::test]
async fn head_keeps_the_upstream_content_length() {
    let fx = fixture();
    let mut get = client().get(fx.gateway.url("/orders/7")).send().await.expect("get");
    let body_len = get.body().await.expect("body").len();
    let head = client().head(fx.gateway.url("/orders/7")).send().await.expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    let length = head.headers().get("content-length").expect("content-length");
    // The echo of a HEAD differs from the GET's only in the method's name length.
    let expected = body_len - "GET".len() + "HEAD".len();
    assert_eq!(length.to_str().expect("ascii"), expected.to_string());
}

#[actix_rt::test]
async fn malformed_request_id_and_traceparent_are_replaced() {
    let fx = fixture();
    for (id, trace) in [
        ("has space", "garbage"),
        (&"x".repeat(129)[..], "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        ("semi;colon", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
    ] {
        let mut response = client()
            .get(fx.gateway.url("/public/x"))
            .insert_header(("x-request-id", id))
            .insert_header(("traceparent", trace))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        let returned =
            response.headers().get("x-request-id").expect("id").to_str().expect("ascii").to_owned();
        assert_ne!(returned, id);
        assert!(!returned.is_empty() && returned.len() <= 128);
        let echo = echo(&mut response).await;
        assert_eq!(echo["headers"]["x-request-id"], returned.as_str());
        let upstream_trace = echo["headers"]["traceparent"].as_str().expect("traceparent");
        assert_eq!(upstream_trace.len(), 55, "{upstream_trace}");
        assert!(!upstream_trace.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!upstream_trace.contains("4BF92F"));
    }
}

#[actix_rt::test]
async fn routing_misses_are_404_and_405_with_problem_json() {
    let fx = fixture();
    let mut response = client().get(fx.gateway.url("/ordersx")).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers().get("content-type").expect("type"), "application/problem+json");
    let id = response.headers().get("x-request-id").expect("id").to_str().expect("id").to_owned();
    let problem = assert_problem(&response.body().await.expect("body"), 404, "route-not-found");
    assert_eq!(problem["request_id"], id.as_str());

    let mut response = client().delete(fx.gateway.url("/orders/1")).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers().get("allow").expect("allow"), "GET, HEAD, POST");
    assert_problem(&response.body().await.expect("body"), 405, "method-not-allowed");
}

#[actix_rt::test]
async fn traversal_never_reaches_a_route_it_does_not_match() {
    let fx = fixture();
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    for path in [
        "/orders/../admin",
        "/orders/%2e%2e/admin",
        "/orders/%2E%2E/admin",
        "//admin",
        "/public/./../admin",
    ] {
        let answer = raw_request(fx.gateway.public, get(path).as_bytes());
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {answer}");
        assert!(answer.contains("route-not-found"), "{path}: {answer}");
    }
    for path in ["/orders/..%2Fadmin", "/orders/..%5Cadmin", "/orders/%00"] {
        let answer = raw_request(fx.gateway.public, get(path).as_bytes());
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("bad-request-path"), "{path}: {answer}");
    }
    // Normalisation can also lead *into* a route, and then that route's rules apply.
    let answer = raw_request(fx.gateway.public, get("/public/../orders/7").as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"path\":\"/orders/7\""), "{answer}");
}

#[actix_rt::test]
async fn upstream_failures_are_502_and_504_without_internal_detail() {
    let fx = fixture();
    for (path, status, kind) in [
        ("/refused", 502, "upstream-unreachable"),
        ("/rogue", 502, "upstream-unreachable"),
        ("/hanging", 504, "upstream-timeout"),
    ] {
        let started = Instant::now();
        let mut response = client().get(fx.gateway.url(path)).send().await.expect("send");
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert!(started.elapsed() < Duration::from_secs(10), "{path} took {:?}", started.elapsed());
        let body = response.body().await.expect("body");
        let problem = assert_problem(&body, status, kind);
        let text = problem.to_string();
        assert!(!text.contains("127.0.0.1") && !text.contains("localhost"), "{text}");
    }
}

#[actix_rt::test]
async fn oversized_bodies_get_413() {
    let fx = fixture();
    let big = vec![b'a'; 1024 * 1024 + 1];
    let mut response =
        client().post(fx.gateway.url("/orders")).send_body(big.clone()).await.expect("send");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_problem(&response.body().await.expect("body"), 413, "payload-too-large");

    // Without Content-Length the limit is enforced while streaming.
    let chunks = big
        .chunks(64 * 1024)
        .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
        .collect::<Vec<_>>();
    let mut response = client()
        .post(fx.gateway.url("/orders"))
        .send_stream(futures_util::stream::iter(chunks))
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_problem(&response.body().await.expect("body"), 413, "payload-too-large");

    // Exactly at the limit passes.
    let mut response = client()
        .post(fx.gateway.url("/orders"))
        .send_body(vec![b'a'; 1024 * 1024])
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(echo(&mut response).await["body_bytes"], 1024 * 1024);

    let answer = raw_request(
        fx.gateway.public,
        b"POST /orders HTTP/1.1\r\nHost: gw\r\nContent-Length: nope\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[actix_rt::test]
async fn a_client_leaving_mid_body_does_not_hurt_the_gateway() {
    let fx = fixture();
    for _ in 0..5 {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(fx.gateway.public).expect("connect");
        stream
            .write_all(b"POST /orders HTTP/1.1\r\nHost: gw\r\nContent-Length: 500000\r\n\r\n")
            .expect("write");
        stream.write_all(&[b'x'; 10_000]).expect("write");
        drop(stream);
    }
    let response = client().get(fx.gateway.url("/orders/1")).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let mut process = fx.gateway.process;
    std::thread::sleep(Duration::from_millis(200));
    let logs = process.drain().join("\n");
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(process.child.try_wait().expect("wait").is_none(), "gateway exited");
}
