//! Request ids and W3C trace context, so one request can be followed from the caller through
//! Skybridge to the upstream.
//!
//! A caller's `x-request-id` is kept when it is well formed (letters, digits, `.`, `_`, `-`,
//! at most 128 bytes) and replaced otherwise, so a hostile id can never inject into logs or
//! headers. A valid `traceparent` (W3C Trace Context level 1) is continued with a new span
//! id; an absent or malformed one starts a new trace.

use std::fmt::Write;

use rand::RngCore;

/// Header carrying the request id, in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// W3C trace context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// W3C vendor trace state, forwarded untouched when the traceparent is continued.
pub const TRACESTATE_HEADER: &str = "tracestate";

const MAX_REQUEST_ID_LEN: usize = 128;

/// The caller's request id if well formed, else a new UUIDv7 (time-ordered).
pub fn request_id(caller: Option<&[u8]>) -> String {
    match caller {
        Some(id) if is_valid_request_id(id) => String::from_utf8_lossy(id).into_owned(),
        _ => uuid::Uuid::now_v7().to_string(),
    }
}

fn is_valid_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The trace position of one request inside Skybridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace this request belongs to (the caller's, or a new one).
    pub trace_id: [u8; 16],
    /// The caller's span, when the trace was continued.
    pub parent_span_id: Option<[u8; 8]>,
    /// Skybridge's server span for this request.
    pub span_id: [u8; 8],
    /// Trace flags; bit 0 is "sampled".
    pub flags: u8,
}

impl TraceContext {
    /// Continues the caller's `traceparent` when valid, else starts a new sampled trace.
    pub fn from_caller(traceparent: Option<&[u8]>) -> Self {
        let mut rng = rand::rng();
        let span_id = random_nonzero::<8>(&mut rng);
        if let Some((trace_id, parent, flags)) = traceparent.and_then(parse_traceparent) {
            return Self { trace_id, parent_span_id: Some(parent), span_id, flags };
        }
        Self { trace_id: random_nonzero::<16>(&mut rng), parent_span_id: None, span_id, flags: 1 }
    }

    /// Whether the caller's trace was continued (then its `tracestate` goes upstream too).
    pub fn is_continued(&self) -> bool {
        self.parent_span_id.is_some()
    }

    /// A new span id for a child of this request's span (the upstream call).
    pub fn child_span_id() -> [u8; 8] {
        random_nonzero::<8>(&mut rand::rng())
    }

    /// The `traceparent` naming `span_id` as the parent of whatever the upstream does.
    pub fn traceparent(&self, span_id: [u8; 8]) -> String {
        format!("00-{}-{}-{:02x}", hex(&self.trace_id), hex(&span_id), self.flags)
    }

    /// The trace id in hex.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

/// Parses `version-traceid-parentid-flags`; `None` when malformed or all-zero.
fn parse_traceparent(value: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let mut parts = text.split('-');
    let version = parse_hex::<1>(parts.next()?)?[0];
    let trace_id = parse_hex::<16>(parts.next()?)?;
    let parent = parse_hex::<8>(parts.next()?)?;
    let flags = parse_hex::<1>(parts.next()?)?[0];
    let rest = parts.next();
    // Version 0 has exactly four fields; a later version may append more (W3C §3.3).
    let shape_ok = match version {
        0 => rest.is_none(),
        0xff => false,
        _ => true,
    };
    let nonzero = trace_id != [0; 16] && parent != [0; 8];
    (shape_ok && nonzero).then_some((trace_id, parent, flags))
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Lower-case hex only, as the specification requires.
    let valid = text.len() == N * 2 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !valid {
        return None;
    }
    let mut out = [0u8; N];
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(out)
}

fn random_nonzero<const N: usize>(rng: &mut impl RngCore) -> [u8; N] {
    let mut out = [0u8; N];
    while out == [0u8; N] {
        rng.fill_bytes(&mut out);
    }
    out
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn request_id_kept_only_when_well_formed() {
        assert_eq!(request_id(Some(b"abc-1.2_3")), "abc-1.2_3");
        for bad in [&b""[..], b"a b", b"a\nb", b"\xff", &[b'a'; 129]] {
            let generated = request_id(Some(bad));
            assert_ne!(generated.as_bytes(), bad);
            assert!(is_valid_request_id(generated.as_bytes()));
        }
        assert!(is_valid_request_id(&[b'a'; 128]));
    }

    #[test]
    fn continues_a_valid_traceparent() {
        let trace = TraceContext::from_caller(Some(VALID.as_bytes()));
        assert_eq!(trace.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(trace.parent_span_id, Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]));
        let upstream = trace.traceparent(trace.span_id);
        assert!(upstream.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(upstream.ends_with("-01"));
        assert!(!upstream.contains("00f067aa0ba902b7"));
    }

    #[test]
    fn starts_a_new_trace_for_malformed_input() {
        for bad in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let trace = TraceContext::from_caller(Some(bad.as_bytes()));
            assert!(!trace.is_continued(), "{bad}");
            assert_ne!(trace.trace_id, [0; 16]);
        }
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(TraceContext::from_caller(Some(future.as_bytes())).is_continued());
    }
}
