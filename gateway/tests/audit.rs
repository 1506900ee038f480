//! One audit record per request, whatever the outcome, written by the real binary to its
//! file sink and found again with `skybridge audit query`.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Gateway, TestDir, Upstream, client, mtls_upstream_block};
use serde_json::Value;

/// Runs `skybridge audit query --format json` with `filters` and returns the records.
fn query(trail: &Path, filters: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["audit", "query", "--format", "json", "--file"])
        .arg(trail)
        .args(filters)
        .output()
        .expect("audit query");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json record"))
        .collect()
}

fn by_request_id(trail: &Path, id: &str) -> Value {
    let mut records = query(trail, &["--request-id", id]);
    assert_eq!(records.len(), 1, "exactly one record for {id}: {records:?}");
    records.remove(0)
}

#[actix_rt::test]
async fn every_outcome_leaves_exactly_one_record() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let hanging = TcpListener::bind("127.0.0.1:0").expect("bind");
    let trail = dir.path().join("audit.jsonl");
    let text = format!(
        r#"
[listener]
address = "127.0.0.1:0"
max_body_bytes = 100
[admin]
address = "127.0.0.1:0"
[telemetry]
service_name = "skybridge-test"
instance_id = "gw-audit"
audit_file = "{trail}"
[[upstreams]]
name = "hanging"
url = "http://127.0.0.1:{hanging}"
request_timeout = "300ms"
{echo}
[[routes]]
name = "orders"
path_prefix = "/orders"
methods = ["GET", "POST"]
upstream = "echo"
auth = "anonymous"
[[routes]]
name = "slow"
path_prefix = "/slow"
upstream = "hanging"
auth = "anonymous"
"#,
        trail = trail.display(),
        hanging = hanging.local_addr().expect("addr").port(),
        echo = mtls_upstream_block("echo", upstream.port(), &dir.certs, ""),
    );
    let gateway = Gateway::start(&dir.write("gateway.toml", &text));
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let send = |method: awc::http::Method, path: &str, id: &str| {
        client()
            .request(method, gateway.url(path))
            .insert_header(("x-request-id", id))
            .insert_header(("traceparent", traceparent))
            .insert_header(("user-agent", "audit-test/1"))
    };
    use awc::http::Method;
    let ok = send(Method::GET, "/orders/1?secret=hunter2", "r-ok").send().await.expect("ok");
    assert_eq!(ok.status().as_u16(), 200);
    let _ = send(Method::GET, "/nowhere", "r-404").send().await.expect("404");
    let _ = send(Method::DELETE, "/orders/1", "r-405").send().await.expect("405");
    let _ = send(Method::POST, "/orders", "r-413").send_body(vec![0u8; 101]).await.expect("413");
    let _ = send(Method::GET, "/slow", "r-504").send().await.expect("504");
    {
        // A caller that leaves in the middle of a large download.
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(gateway.public).expect("connect");
        let request = b"GET /orders/_demo/bytes/1000000000 HTTP/1.1\r\nHost: gw\r\n\
         x-request-id: r-gone\r\n\r\n";
        stream.write_all(request).expect("write");
        let mut first = [0u8; 65536];
        let read = stream.read(&mut first).expect("read");
        assert!(read > 0);
    }
    // The download ran through the gateway, so its record is written once it gives up.
    std::thread::sleep(Duration::from_millis(500));

    // SIGTERM flushes the sink before exit.
    let mut process = gateway.process;
    process.signal(libc::SIGTERM);
    assert!(process.wait_exit(Duration::from_secs(20)).expect("exits").success());

    let record = by_request_id(&trail, "r-ok");
    assert_eq!(record["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_ne!(record["span_id"], "b7ad6b7169203331");
    assert_eq!(record["resource"]["service.name"], "skybridge-test");
    assert_eq!(record["resource"]["service.instance.id"], "gw-audit");
    let attributes = &record["attributes"];
    assert_eq!(attributes["http.request.method"], "GET");
    assert_eq!(attributes["url.path"], "/orders/1");
    assert_eq!(attributes["http.route"], "/orders");
    assert_eq!(attributes["skybridge.route"], "orders");
    assert_eq!(attributes["skybridge.upstream"], "echo");
    assert_eq!(attributes["skybridge.decision"], "allow");
    assert_eq!(attributes["http.response.status_code"], 200);
    assert_eq!(attributes["skybridge.upstream.status"], 200);
    assert_eq!(attributes["client.address"], "127.0.0.1");
    assert_eq!(attributes["user_agent.original"], "audit-test/1");
    assert!(attributes["skybridge.duration_ms"].as_f64().is_some());
    assert!(attributes["skybridge.upstream.duration_ms"].as_f64().is_some());

    for (id, status, decision, reason) in [
        ("r-404", 404, "deny", "route_not_found"),
        ("r-405", 405, "deny", "method_not_allowed"),
        ("r-413", 413, "deny", "payload_too_large"),
        ("r-504", 504, "allow", "upstream_timeout"),
        ("r-gone", 499, "allow", "client_closed"),
    ] {
        let attributes = by_request_id(&trail, id)["attributes"].clone();
        assert_eq!(attributes["http.response.status_code"], status, "{id}: {attributes}");
        assert_eq!(attributes["skybridge.decision"], decision, "{id}: {attributes}");
        assert_eq!(attributes["skybridge.reason"], reason, "{id}: {attributes}");
    }
    // Filters combine; the query string never reaches the trail.
    let denied = query(&trail, &["--route", "orders", "--decision", "deny"]);
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["attributes"]["skybridge.request_id"], "r-413");
    assert_eq!(by_request_id(&trail, "r-gone")["attributes"]["skybridge.upstream.status"], 200);
    let everything = std::fs::read_to_string(&trail).expect("trail");
    assert!(!everything.contains("hunter2"));
    assert_eq!(query(&trail, &["--trace-id", "0af7651916cd43dd8448eb211c80319c"]).len(), 5);
}
