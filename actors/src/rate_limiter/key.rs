//! Key extraction: which value a policy counts for one request (`claim:NAME`, `header:NAME`,
//! `client_ip`, `route`), and the hash stored in Redis in its place.
//!
//! Pure functions; the gateway calls them with what it knows about the request.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a key may be taken from.
pub struct KeySource<'a> {
    /// The verified token's claims; `None` on anonymous routes.
    pub claims: Option<&'a Map<String, Value>>,
    /// Looks up a request header by (case-insensitive) name; the first value if repeated.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The address of the TCP peer.
    pub peer: IpAddr,
    /// The request's `X-Forwarded-For` value, if any (several fields joined with `,`).
    pub forwarded_for: Option<&'a str>,
    /// Proxies whose `X-Forwarded-For` entries are believed.
    pub trusted_proxies: &'a [IpAddr],
    /// The matched route's name.
    pub route: &'a str,
}

/// The value `spec` selects from `source`, or `None` when that source is absent (no claims, no
/// such claim or header, an empty value). `spec` was validated with the configuration.
pub fn extract_key(spec: &str, source: &KeySource<'_>) -> Option<String> {
    match spec.split_once(':') {
        Some(("claim", name)) => claim_value(source.claims?.get(name)?),
        Some(("header", name)) => {
            Some((source.header)(name)?.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
        }
        None if spec == "client_ip" => Some(client_ip(source).to_string()),
        None if spec == "route" => Some(source.route.to_owned()),
        _ => None,
    }
}

/// The counter key for `spec`: the extracted value, or, when its source is absent, the
/// client IP. The two are tagged differently, so a caller cannot pick a header value that
/// lands in someone else's per-IP bucket. Counting absent keys per IP (rather than in one
/// shared bucket, or not at all) keeps one anonymous caller from exhausting everyone's limit
/// and keeps callers from escaping a limit by leaving a header out.
pub fn counter_key(spec: &str, source: &KeySource<'_>) -> String {
    match extract_key(spec, source) {
        Some(value) => format!("v:{value}"),
        None => format!("ip:{}", client_ip(source)),
    }
}

/// The client address. The peer, unless it is a trusted proxy: then `X-Forwarded-For` is read
/// from the right, skipping trusted proxies, and the first other address is the client.
/// Entries further left were written by that client and could be forged, so they are never
/// used. If every entry is trusted, the left-most one is the client; an entry that is not an
/// IP address stops the walk at the last address that was believed.
pub fn client_ip(source: &KeySource<'_>) -> IpAddr {
    let trusted = |ip: &IpAddr| source.trusted_proxies.contains(ip);
    if !trusted(&source.peer) {
        return source.peer;
    }
    let mut believed = source.peer;
    let entries = source.forwarded_for.unwrap_or("").split(',').rev();
    for entry in entries.map(str::trim).filter(|e| !e.is_empty()) {
        let Some(ip) = parse_forwarded(entry) else { return believed };
        if !trusted(&ip) {
            return ip;
        }
        believed = ip;
    }
    believed
}

/// Parses one `X-Forwarded-For` entry: an address, optionally bracketed or with a port.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

fn claim_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// The bounded stand-in for a counter key in store key names: base64url of the first 16
/// bytes of its SHA-256, so a caller cannot grow key names or memory with long values.
pub fn key_hash(counter_key: &str) -> String {
    let digest = Sha256::digest(counter_key.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
