//! The two models against an in-process loopback server that stalls once: the open model
//! must charge the stall to every request queued behind it, the closed model only to one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::request::{BodyCheck, Spec};
use crate::target::Target;

/// The request number (counted across connections) that waits `STALL` before its answer.
const STALLED: u64 = 10;
const STALL: Duration = Duration::from_millis(200);

/// Answers every request with `200 ok`, stalling once.
async fn stalling_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let served = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(read) = socket.read(&mut chunk).await {
                    if read == 0 {
                        return;
                    }
                    pending.extend_from_slice(&chunk[..read]);
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        if served.fetch_add(1, Ordering::SeqCst) == STALLED {
                            tokio::time::sleep(STALL).await;
                        }
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if socket.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    address
}

async fn load(address: std::net::SocketAddr) -> Load {
    let target = Target::parse(&format!("http://{address}")).expect("target");
    let spec = Spec { method: "GET", path: "/".into(), body: Bytes::new(), check: BodyCheck::None };
    Load {
        connector: Connector::new(address, None),
        requests: vec![Prepared::build(&target, &spec, None)],
        connections: 1,
        timeout: Duration::from_secs(5),
        progress: Arc::new(Progress::default()),
    }
}

fn slow(measured: &Measured) -> u64 {
    measured.recorder.latency.count_between(50_000, u64::MAX)
}

#[tokio::test]
async fn open_model_counts_the_queue_behind_a_stall() {
    let address = stalling_server().await;
    let schedule = Schedule::Constant { rate: 100.0 };
    let measured =
        run(load(address).await, Model::Open { schedule, count: 50 }).await.expect("run");
    assert_eq!(measured.recorder.status(200), 50);
    // Requests due every 10 ms queue behind the 200 ms stall: about 15 of them wait > 50 ms.
    assert!(slow(&measured) >= 10, "only {} slow requests", slow(&measured));
    assert!(measured.recorder.latency.max() >= STALL.as_micros() as u64);
}

#[tokio::test]
async fn closed_model_sees_the_stall_once() {
    let address = stalling_server().await;
    let model = Model::Closed { count: 50, duration: Duration::from_secs(10) };
    let measured = run(load(address).await, model).await.expect("run");
    assert_eq!(measured.recorder.status(200), 50);
    assert_eq!(slow(&measured), 1);
    assert_eq!(measured.recorder.unsent, 0);
}

#[tokio::test]
async fn open_model_stops_at_its_deadline() {
    // A server that accepts and never answers: every request times out, and a lane that
    // falls a whole timeout behind gives up the rest as unsent instead of running on.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let mut load = load(address).await;
    load.timeout = Duration::from_millis(100);
    let schedule = Schedule::Constant { rate: 100.0 };
    let started = Instant::now();
    let measured = run(load, Model::Open { schedule, count: 100 }).await.expect("run");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let r = &measured.recorder;
    assert!(r.errors[&ErrorKind::Timeout] >= 1);
    assert!(r.unsent > 0);
    assert_eq!(r.failed() + r.unsent, 100);
    drop(listener);
}
