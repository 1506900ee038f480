//! The client against a raw loopback server that answers with canned bytes.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// Serves `answers`, one per request read, on a fresh loopback port; then closes.
async fn serve(answers: Vec<&'static [u8]>) -> Connector {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let address = listener.local_addr().expect("test step");
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("test step");
        for answer in answers {
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await.expect("test step");
            socket.write_all(answer).await.expect("test step");
        }
    });
    Connector::new(address, None)
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test]
async fn reads_length_and_chunked_bodies_on_one_connection() {
    let connector = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\n\
         de\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    ])
    .await;
    let mut conn = Connection::open(&connector).await.expect("test step");
    let first = conn.exchange(GET, false, true).await.expect("test step");
    assert_eq!((first.status, first.body_len), (200, 5));
    assert_eq!(first.body.as_deref(), Some(&b"hello"[..]));
    assert!(first.keep_alive);
    let second = conn.exchange(GET, false, true).await.expect("test step");
    assert_eq!((second.status, second.body_len), (201, 5));
    assert_eq!(second.body.as_deref(), Some(&b"abcde"[..]));
    let third = conn.exchange(GET, false, false).await.expect("test step");
    assert_eq!((third.status, third.body_len), (204, 0));
    assert!(third.body.is_none());
}

#[tokio::test]
async fn body_until_close_and_connection_close() {
    let connector = serve(vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"]).await;
    let mut conn = Connection::open(&connector).await.expect("test step");
    let response = conn.exchange(GET, false, true).await.expect("test step");
    assert_eq!(response.body_len, 13);
    assert!(!response.keep_alive);
}

#[tokio::test]
async fn head_responses_have_no_body() {
    let connector = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"]).await;
    let mut conn = Connection::open(&connector).await.expect("test step");
    let response = conn.exchange(b"HEAD / HTTP/1.1\r\n\r\n", true, false).await.expect("test step");
    assert_eq!((response.status, response.body_len), (200, 0));
    assert!(response.keep_alive);
}

#[tokio::test]
async fn short_and_broken_responses_are_errors() {
    let cases: [(&'static [u8], ErrorKind); 4] = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ErrorKind::Closed),
        (b"HTTP/1.1 200 OK\r\nContent-Len", ErrorKind::Closed),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", ErrorKind::Malformed),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ErrorKind::Malformed),
    ];
    for (answer, kind) in cases {
        let connector = serve(vec![answer]).await;
        let mut conn = Connection::open(&connector).await.expect("test step");
        let err = conn.exchange(GET, false, false).await.expect_err("must fail");
        assert_eq!(err.kind, kind, "{answer:?}: {err}");
    }
}

#[test]
fn conflicting_lengths_are_malformed() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(parse_head(head, false).expect_err("must fail").kind, ErrorKind::Malformed);
    let head = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    let (_, parsed) = parse_head(head, false).expect("test step").expect("test step");
    assert!(parsed.close, "HTTP/1.0 closes by default");
}

#[tokio::test]
async fn refused_connections_are_connect_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("test step");
    let address = listener.local_addr().expect("test step");
    drop(listener);
    let err = Connection::open(&Connector::new(address, None)).await.err().expect("test step");
    assert_eq!(err.kind, ErrorKind::Connect);
}
