//! Header hygiene between caller and upstream.
//!
//! Hop-by-hop headers describe one connection and must not be forwarded by a proxy
//! (RFC 9110 §7.6.1): the fixed list below plus every header the `Connection` header names.
//! The same rule applies in both directions.

use actix_web::http::header::{self, HeaderMap, HeaderName};

/// Headers that are always connection-specific.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Whether `name` must not cross the proxy, given the message's own `Connection` header.
pub(super) fn is_hop_by_hop(name: &HeaderName, headers: &HeaderMap) -> bool {
    if HOP_BY_HOP.contains(name) {
        return true;
    }
    headers.get_all(header::CONNECTION).any(|value| {
        value
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case(name.as_str()))
    })
}

/// Header names the gateway sets itself towards the upstream, so a caller's copies are
/// dropped rather than forwarded.
pub(super) const GATEWAY_OWNED_REQUEST_HEADERS: [HeaderName; 9] = [
    header::HOST,
    header::CONTENT_LENGTH,
    header::EXPECT,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-forwarded-host"),
];

/// Prefix of the identity headers only Skybridge sets; a caller's copies never pass.
const GATEWAY_NAMESPACE: &str = "x-skybridge-";

/// Whether `name` is in the gateway's own header namespace.
pub(super) fn is_gateway_owned(name: &HeaderName) -> bool {
    name.as_str().starts_with(GATEWAY_NAMESPACE)
}

/// The `X-Forwarded-For` value: the caller's list with the peer appended.
pub(super) fn forwarded_for(existing: Option<&str>, peer: &str) -> String {
    match existing.map(str::trim).filter(|s| !s.is_empty()) {
        Some(list) => format!("{list}, {peer}"),
        None => peer.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn names_in_connection_are_hop_by_hop() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close, X-Secret-Hop"));
        assert!(is_hop_by_hop(&HeaderName::from_static("x-secret-hop"), &headers));
        assert!(is_hop_by_hop(&header::TRANSFER_ENCODING, &headers));
        assert!(!is_hop_by_hop(&header::ACCEPT, &headers));
    }

    #[test]
    fn forwarded_for_appends_the_peer() {
        assert_eq!(forwarded_for(None, "127.0.0.1"), "127.0.0.1");
        assert_eq!(forwarded_for(Some("10.0.0.1"), "127.0.0.1"), "10.0.0.1, 127.0.0.1");
        assert_eq!(forwarded_for(Some(" "), "::1"), "::1");
    }
}
