//! Bodies stream through the gateway in both directions: 256 MiB up and 256 MiB down pass
//! while the gateway's peak resident memory grows by less than 64 MiB.

mod common;

use awc::http::StatusCode;
use bytes::Bytes;
use common::{Gateway, TestDir, Upstream, client, mtls_upstream_block};
use futures_util::StreamExt;
use serde_json::Value;

const SIZE: u64 = 256 * 1024 * 1024;
const CHUNK: usize = 256 * 1024;
const MAX_GROWTH_KIB: u64 = 64 * 1024;

#[actix_rt::test]
async fn large_bodies_stream_in_bounded_memory() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let text = format!(
        "[listener]\naddress = \"127.0.0.1:0\"\nmax_body_bytes = {}\nworkers = 1\n\
         [admin]\naddress = \"127.0.0.1:0\"\n{}\n\
         [[routes]]\nname = \"all\"\npath_prefix = \"/\"\nupstream = \"echo\"\n\
          auth = \"anonymous\"\n",
        SIZE + 1,
        mtls_upstream_block("echo", upstream.port(), &dir.certs, "request_timeout = \"120s\""),
    );
    let gateway = Gateway::start(&dir.write("gateway.toml", &text));
    let warm = client().get(gateway.url("/warm")).send().await.expect("warm-up");
    assert_eq!(warm.status(), StatusCode::OK);
    let (baseline, _) = gateway.process.memory_kib();

    let chunk = Bytes::from(vec![7u8; CHUNK]);
    let chunks = (SIZE as usize) / CHUNK;
    let upload = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let mut response = client()
        .post(gateway.url("/upload"))
        .send_body(actix_web::body::SizedStream::new(SIZE, Box::pin(upload)))
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::OK);
    let echo: Value = response.json().await.expect("echo");
    assert_eq!(echo["body_bytes"], SIZE);

    let mut response =
        client().get(gateway.url(&format!("/_demo/bytes/{SIZE}"))).send().await.expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    let mut received = 0u64;
    while let Some(chunk) = response.next().await {
        received += chunk.expect("chunk").len() as u64;
    }
    assert_eq!(received, SIZE);

    let (peak, _) = gateway.process.memory_kib();
    let growth = peak.saturating_sub(baseline);
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB (baseline {baseline} KiB)");
}
