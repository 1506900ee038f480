//! Request-path normalisation, done once before routing so that what is matched is exactly
//! what is forwarded.
//!
//! The raw path is split into segments, each segment is percent-decoded, dot segments are
//! resolved (RFC 3986 §5.2.4) and empty segments dropped. A path whose decoded form would
//! change the segment structure (an encoded `/` or `\`) or contains NUL is refused rather than
//! guessed at, which is how `/orders/..%2Fadmin` and friends are kept away from routes they
//! do not match. The forwarded path is the normalised segments re-encoded.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters escaped when a decoded segment is written back into a path: everything but
/// RFC 3986 `pchar` (unreserved, sub-delims, `:` and `@`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/` (absolute-form or authority-form targets).
    #[error("the request path must start with '/'")]
    NotAbsolute,
    /// A segment decodes to something containing `/`, `\` or NUL.
    #[error("the request path contains an encoded '/', '\\' or NUL")]
    EncodedSeparator,
    /// A segment is not valid UTF-8 once decoded.
    #[error("the request path is not valid UTF-8 once decoded")]
    NotUtf8,
}

/// A normalised request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalPath {
    /// Decoded, dot-free form used for matching, e.g. `/orders/a b`.
    pub decoded: String,
    /// Re-encoded form sent upstream, e.g. `/orders/a%20b`.
    pub encoded: String,
}

/// Normalises a raw (still percent-encoded) request path.
pub fn normalize(raw: &str) -> Result<NormalPath, PathError> {
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let mut segments: Vec<String> = Vec::new();
    for raw_segment in raw.split('/') {
        let segment =
            percent_decode_str(raw_segment).decode_utf8().map_err(|_| PathError::NotUtf8)?;
        if segment.contains(['/', '\\', '\0']) {
            return Err(PathError::EncodedSeparator);
        }
        match segment.as_ref() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment.into_owned()),
        }
    }
    // Keep a trailing slash (`/orders/` is a different resource from `/orders` to many
    // upstreams), unless the path ended on a dot segment that was resolved away.
    let last = raw.rsplit('/').next().unwrap_or_default();
    let trailing = !segments.is_empty() && raw.ends_with('/') && last.is_empty();
    let mut decoded = String::with_capacity(raw.len());
    let mut encoded = String::with_capacity(raw.len());
    for segment in &segments {
        decoded.push('/');
        decoded.push_str(segment);
        encoded.push('/');
        encoded.extend(utf8_percent_encode(segment, SEGMENT));
    }
    if segments.is_empty() || trailing {
        decoded.push('/');
        encoded.push('/');
    }
    Ok(NormalPath { decoded, encoded })
}

/// Whether `path` (normalised) is under `prefix` on a segment boundary.
pub fn has_prefix(path: &str, prefix: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> String {
        normalize(raw).expect("normalises").decoded
    }

    #[test]
    fn resolves_dot_segments_and_empty_segments() {
        assert_eq!(decoded("/orders/../admin"), "/admin");
        assert_eq!(decoded("/orders/%2e%2e/admin"), "/admin");
        assert_eq!(decoded("/orders/%2E%2E/admin"), "/admin");
        assert_eq!(decoded("//admin"), "/admin");
        assert_eq!(decoded("/a/./b/"), "/a/b/");
        assert_eq!(decoded("/../../x"), "/x");
        assert_eq!(decoded("/"), "/");
        assert_eq!(decoded("/a/.."), "/");
        assert_eq!(decoded("/a/b/.."), "/a");
    }

    #[test]
    fn refuses_encoded_separators_and_nul() {
        assert_eq!(normalize("/orders/..%2Fadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(normalize("/orders/..%5cadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(normalize("/orders/%00"), Err(PathError::EncodedSeparator));
        assert_eq!(normalize("orders"), Err(PathError::NotAbsolute));
        assert_eq!(normalize("/%ff"), Err(PathError::NotUtf8));
    }

    #[test]
    fn re_encodes_what_it_decoded() {
        let path = normalize("/orders/a%20b/%C3%A9?").expect("normalises");
        assert_eq!(path.decoded, "/orders/a b/é?");
        assert_eq!(path.encoded, "/orders/a%20b/%C3%A9%3F");
    }

    #[test]
    fn prefix_matches_on_segment_boundary_only() {
        assert!(has_prefix("/orders", "/orders"));
        assert!(has_prefix("/orders/1", "/orders"));
        assert!(has_prefix("/orders/1", "/orders/"));
        assert!(!has_prefix("/ordersx", "/orders"));
        assert!(has_prefix("/anything", "/"));
    }
}
