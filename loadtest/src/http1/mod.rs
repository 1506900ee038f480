//! A deliberately small HTTP/1.1 client: one request at a time on a kept-alive connection,
//! the request written as prepared bytes, the response head parsed with `httparse` and the
//! body read by `Content-Length`, chunked coding or until close.
//!
//! Why not awc: the generator should cost as little per request as possible and the same for
//! every peer it is pointed at, and it must control exactly when a request starts and which
//! connection carries it. awc's pool, header maps and body streams add allocations and
//! scheduling the measurement would include; here a request is one write of ready bytes.
//! It is no general client: no redirects, no `Expect: 100-continue`, no pipelining, and a
//! response head larger than 64 KiB or with more than 64 fields is reported as malformed.

mod body;
mod stream;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use self::stream::Connector;
use self::stream::Stream;
use crate::error::{ErrorKind, RequestError};

/// The largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields a response head may have.
const MAX_HEADERS: usize = 64;
/// How much of a body is kept when the caller asks for it (echo bodies are small).
pub const MAX_CAPTURE_BYTES: usize = 1024 * 1024;

/// One open connection.
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
}

/// What came back for one request.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Body bytes received (after removing chunked framing).
    pub body_len: u64,
    /// The body, when capture was asked for, up to `MAX_CAPTURE_BYTES`.
    pub body: Option<Vec<u8>>,
    /// Whether the connection can carry another request.
    pub keep_alive: bool,
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of a response head the client acts on.
#[derive(Debug)]
struct Head {
    status: u16,
    framing: Framing,
    close: bool,
}

// === impl Connection ===

impl Connection {
    /// Opens a connection with `connector`.
    pub async fn open(connector: &Connector) -> Result<Self, RequestError> {
        let stream = connector.connect().await?;
        Ok(Self { stream, buf: BytesMut::with_capacity(16 * 1024) })
    }

    /// Writes `wire` (a complete request) and reads the whole response.
    pub async fn exchange(
        &mut self,
        wire: &[u8],
        head_request: bool,
        capture: bool,
    ) -> Result<Response, RequestError> {
        let write_error = |err: std::io::Error| RequestError::io(&err).before_response();
        self.stream.write_all(wire).await.map_err(write_error)?;
        self.stream.flush().await.map_err(write_error)?;
        let head = loop {
            let head = self.read_head(head_request).await?;
            // Interim responses (RFC 9110 §15.2) precede the final one; skip them.
            if !(100..200).contains(&head.status) {
                break head;
            }
        };
        let mut captured = capture.then(Vec::new);
        let body_len = body::read(self, head.framing, captured.as_mut()).await?;
        let keep_alive = !head.close && head.framing != Framing::UntilClose;
        Ok(Response { status: head.status, body_len, body: captured, keep_alive })
    }

    /// Reads more bytes into the buffer; a clean close here is an incomplete response.
    async fn fill(&mut self) -> Result<usize, RequestError> {
        let read =
            self.stream.read_buf(&mut self.buf).await.map_err(|err| RequestError::io(&err))?;
        Ok(read)
    }

    async fn read_head(&mut self, head_request: bool) -> Result<Head, RequestError> {
        loop {
            if let Some((used, head)) = parse_head(&self.buf, head_request)? {
                let _ = self.buf.split_to(used);
                return Ok(head);
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(RequestError::new(ErrorKind::Malformed, "response head too large"));
            }
            let read = self.fill().await.map_err(|err| match self.buf.is_empty() {
                true => err.before_response(),
                false => err,
            })?;
            if read == 0 {
                let err = RequestError::new(ErrorKind::Closed, "closed before a complete head");
                return Err(if self.buf.is_empty() { err.before_response() } else { err });
            }
        }
    }
}

/// Parses a response head from `buf`: `None` while incomplete, the bytes used otherwise.
fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<(usize, Head)>, RequestError> {
    let malformed = |detail: String| RequestError::new(ErrorKind::Malformed, detail);
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let used = match response.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(malformed(format!("bad response head: {err}"))),
    };
    let status = response.code.ok_or_else(|| malformed("no status code".to_owned()))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = response.version == Some(0);
    for field in response.headers.iter() {
        let value = std::str::from_utf8(field.value).unwrap_or("").trim();
        if field.name.eq_ignore_ascii_case("content-length") {
            let parsed =
                value.parse::<u64>().map_err(|_| malformed("bad Content-Length".into()))?;
            if length.is_some_and(|known| known != parsed) {
                return Err(malformed("conflicting Content-Length fields".to_owned()));
            }
            length = Some(parsed);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked =
                value.rsplit(',').next().is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if field.name.eq_ignore_ascii_case("connection") {
            close |= value.split(',').any(|token| token.trim().eq_ignore_ascii_case("close"));
        }
    }
    let framing = if head_request || status == 204 || status == 304 || (100..200).contains(&status)
    {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    Ok(Some((used, Head { status, framing, close })))
}

#[cfg(test)]
mod tests;
