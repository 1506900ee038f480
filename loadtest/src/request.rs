//! The requests a run sends, prepared as ready-to-write bytes before the clock starts, and
//! what each response must satisfy beyond its status. Prepared bytes may hold a bearer
//! token, so they are never printed: `Debug` shows sizes only.

use bytes::Bytes;
use serde_json::Value;

use crate::target::Target;

/// A request as it goes on the wire, with the check its response must pass.
#[derive(Clone)]
pub struct Prepared {
    /// The complete request: head and body.
    pub wire: Bytes,
    /// Whether it is a HEAD request (its response has no body).
    pub head: bool,
    /// What the body of a successful response must show.
    pub check: BodyCheck,
}

/// A check on a 2xx response's body, used by suites that move payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyCheck {
    /// Nothing beyond the status.
    None,
    /// The demo upstream's echo JSON must report this many body bytes with this SHA-256.
    Echo { bytes: u64, sha256: String },
    /// The body must be exactly this long.
    Length(u64),
}

/// One request to build: method, path under the target, optional token and body.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub method: &'a str,
    pub path: String,
    pub body: Bytes,
    pub check: BodyCheck,
}

// === impl Prepared ===

impl Prepared {
    /// Serialises `spec` for `target`, with `Authorization: Bearer <token>` when given.
    pub fn build(target: &Target, spec: &Spec<'_>, token: Option<&str>) -> Self {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {}\r\nuser-agent: skybridge-loadtest\r\n",
            spec.method, spec.path, target.authority
        );
        if let Some(token) = token {
            head.push_str("authorization: Bearer ");
            head.push_str(token);
            head.push_str("\r\n");
        }
        if !spec.body.is_empty() || spec.method == "POST" || spec.method == "PUT" {
            head.push_str(&format!(
                "content-length: {}\r\ncontent-type: application/octet-stream\r\n",
                spec.body.len()
            ));
        }
        head.push_str("\r\n");
        let mut wire = Vec::with_capacity(head.len() + spec.body.len());
        wire.extend_from_slice(head.as_bytes());
        wire.extend_from_slice(&spec.body);
        Self { wire: wire.into(), head: spec.method == "HEAD", check: spec.check.clone() }
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("wire_bytes", &self.wire.len())
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

// === impl BodyCheck ===

impl BodyCheck {
    /// Whether the check needs the body kept in memory.
    pub fn needs_body(&self) -> bool {
        matches!(self, Self::Echo { .. })
    }

    /// Whether a 2xx response with `body_len` bytes and `body` passes.
    pub fn passes(&self, body_len: u64, body: Option<&[u8]>) -> bool {
        match self {
            Self::None => true,
            Self::Length(expected) => body_len == *expected,
            Self::Echo { bytes, sha256 } => {
                let Some(json) = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()) else {
                    return false;
                };
                json["body_bytes"].as_u64() == Some(*bytes)
                    && json["body_sha256"].as_str() == Some(sha256.as_str())
            }
        }
    }
}

/// The lowercase hex SHA-256 of `data`, as the demo upstream reports it.
pub fn sha256_hex(data: &[u8]) -> String {
    openssl::sha::sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::parse("http://127.0.0.1:8080/base").expect("test step")
    }

    #[test]
    fn builds_a_request_with_token_and_body() {
        let spec = Spec {
            method: "POST",
            path: target().path("/echo"),
            body: Bytes::from_static(b"abc"),
            check: BodyCheck::None,
        };
        let prepared = Prepared::build(&target(), &spec, Some("tok.en.sig"));
        let text = String::from_utf8(prepared.wire.to_vec()).expect("test step");
        assert!(text.starts_with("POST /base/echo HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n"));
        assert!(text.contains("authorization: Bearer tok.en.sig\r\n"));
        assert!(text.contains("content-length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\nabc"));
        assert!(!format!("{prepared:?}").contains("tok.en.sig"), "Debug must not show tokens");
    }

    #[test]
    fn get_without_body_has_no_length() {
        let spec =
            Spec { method: "GET", path: "/".into(), body: Bytes::new(), check: BodyCheck::None };
        let text = String::from_utf8(Prepared::build(&target(), &spec, None).wire.to_vec())
            .expect("test step");
        assert!(!text.contains("content-length"));
        assert!(!text.contains("authorization"));
    }

    #[test]
    fn echo_check_compares_size_and_digest() {
        let check = BodyCheck::Echo { bytes: 3, sha256: sha256_hex(b"abc") };
        let good = format!(r#"{{"body_bytes":3,"body_sha256":"{}"}}"#, sha256_hex(b"abc"));
        assert!(check.passes(0, Some(good.as_bytes())));
        let bad = format!(r#"{{"body_bytes":3,"body_sha256":"{}"}}"#, sha256_hex(b"abd"));
        assert!(!check.passes(0, Some(bad.as_bytes())));
        assert!(!check.passes(0, Some(b"not json")));
        assert!(!check.passes(0, None));
        assert!(BodyCheck::Length(4).passes(4, None));
        assert!(!BodyCheck::Length(4).passes(5, None));
    }
}
