//! Rendering of the IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers-10): Structured-Fields lists, one item per policy,
//! the item a quoted policy name.
//!
//! The partition key (`pk`) is never sent, so a counter key cannot leak to the caller. The
//! gateway appends these values to any fields the upstream already sent.

use std::fmt::Write;

/// One policy's entry in `RateLimit-Policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyItem<'a> {
    /// Policy name.
    pub name: &'a str,
    /// `q`: the quota, in requests.
    pub quota: u64,
    /// `w`: the window in whole seconds; omitted when `None`.
    pub window_secs: Option<u64>,
}

/// One policy's entry in `RateLimit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateItem<'a> {
    /// Policy name.
    pub name: &'a str,
    /// `r`: units left.
    pub remaining: u64,
    /// `t`: seconds until more quota is available.
    pub reset_secs: u64,
}

/// Renders `RateLimit-Policy`, e.g. `"per-key";q=10;w=60`. `None` for no items.
pub fn policy_field(items: &[PolicyItem<'_>]) -> Option<String> {
    join(items.iter().map(|item| {
        let mut text = sf_string(item.name);
        let _ = write!(text, ";q={}", item.quota);
        if let Some(window) = item.window_secs {
            let _ = write!(text, ";w={window}");
        }
        text
    }))
}

/// Renders `RateLimit`, e.g. `"per-key";r=9;t=6`. `None` for no items.
pub fn state_field(items: &[StateItem<'_>]) -> Option<String> {
    join(
        items.iter().map(|item| {
            format!("{};r={};t={}", sf_string(item.name), item.remaining, item.reset_secs)
        }),
    )
}

fn join(items: impl Iterator<Item = String>) -> Option<String> {
    let joined = items.collect::<Vec<_>>().join(", ");
    (!joined.is_empty()).then_some(joined)
}

/// An RFC 8941 sf-string. Configuration validation guarantees printable ASCII; anything else
/// is dropped rather than producing an invalid field.
fn sf_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars().filter(|c| (' '..='~').contains(c)) {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}
