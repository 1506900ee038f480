//! Reading a response body by its framing, counting its bytes and optionally keeping them.

use super::{Connection, Framing, MAX_CAPTURE_BYTES};
use crate::error::{ErrorKind, RequestError};

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Reads the body framed as `framing`; returns its length and fills `capture` if given.
pub(super) async fn read(
    conn: &mut Connection,
    framing: Framing,
    mut capture: Option<&mut Vec<u8>>,
) -> Result<u64, RequestError> {
    match framing {
        Framing::Empty => Ok(0),
        Framing::Length(length) => {
            take(conn, length, capture, true).await?;
            Ok(length)
        }
        Framing::UntilClose => {
            let mut total = 0;
            loop {
                total += take(conn, u64::MAX - total, capture.as_deref_mut(), false).await?;
                if conn.fill().await? == 0 {
                    return Ok(total);
                }
            }
        }
        Framing::Chunked => chunked(conn, capture).await,
    }
}

/// Consumes up to `wanted` bytes, reading as needed when `exact`; returns how many it took.
/// Without `exact` it only drains what is already buffered.
async fn take(
    conn: &mut Connection,
    wanted: u64,
    mut capture: Option<&mut Vec<u8>>,
    exact: bool,
) -> Result<u64, RequestError> {
    let mut left = wanted;
    loop {
        let now = usize::try_from(left).unwrap_or(usize::MAX).min(conn.buf.len());
        let bytes = conn.buf.split_to(now);
        if let Some(kept) = capture.as_deref_mut() {
            let room = MAX_CAPTURE_BYTES.saturating_sub(kept.len()).min(bytes.len());
            kept.extend_from_slice(&bytes[..room]);
        }
        left -= now as u64;
        if left == 0 || !exact {
            return Ok(wanted - left);
        }
        if conn.fill().await? == 0 {
            return Err(RequestError::new(ErrorKind::Closed, "closed inside the body"));
        }
    }
}

/// Reads a chunked body (RFC 9112 §7.1), ignoring chunk extensions and trailer fields.
async fn chunked(
    conn: &mut Connection,
    mut capture: Option<&mut Vec<u8>>,
) -> Result<u64, RequestError> {
    let mut total = 0u64;
    loop {
        let line = read_line(conn).await?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| RequestError::new(ErrorKind::Malformed, "bad chunk size"))?;
        if size == 0 {
            // Trailer section: fields until an empty line.
            while !read_line(conn).await?.is_empty() {}
            return Ok(total);
        }
        take(conn, size, capture.as_deref_mut(), true).await?;
        total += size;
        if !read_line(conn).await?.is_empty() {
            return Err(RequestError::new(ErrorKind::Malformed, "chunk longer than its size"));
        }
    }
}

/// Reads one CRLF-terminated line and returns it without the CRLF.
async fn read_line(conn: &mut Connection) -> Result<String, RequestError> {
    loop {
        if let Some(end) = conn.buf.windows(2).position(|pair| pair == b"\r\n") {
            let line = conn.buf.split_to(end + 2);
            return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
        }
        if conn.buf.len() > MAX_LINE {
            return Err(RequestError::new(ErrorKind::Malformed, "chunk line too long"));
        }
        if conn.fill().await? == 0 {
            return Err(RequestError::new(ErrorKind::Closed, "closed inside a chunked body"));
        }
    }
}
