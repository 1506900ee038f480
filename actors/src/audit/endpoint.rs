//! The collector's OTLP/HTTP logs and traces URLs, parsed once at start.
//!
//! An endpoint may carry `user:password@` for a collector behind basic authentication. The
//! credentials are taken out of the URL and sent as an `Authorization` header, so neither the
//! request line nor any log, error or `Debug` output ever shows them: only [`Endpoint::redacted`]
//! is printed.

use std::fmt;

use base64::Engine;

use super::error::AuditError;

/// Where to POST audit batches.
#[derive(Clone)]
pub struct Endpoint {
    /// `{base}/v1/logs`, without credentials.
    logs_url: String,
    /// `{base}/v1/traces`, without credentials.
    traces_url: String,
    /// `Basic …` when the configured URL had credentials.
    authorization: Option<String>,
}

impl Endpoint {
    /// Parses `telemetry.otlp_endpoint`, the collector's OTLP/HTTP base URL.
    pub fn parse(raw: &str) -> Result<Endpoint, AuditError> {
        let bad = |reason: &str| AuditError::Endpoint { reason: reason.to_owned() };
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("it has no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme must be http or https"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("it must not have a query or fragment"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        let authorization = userinfo.map(|u| {
            let decoded = percent_decode(u);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(decoded))
        });
        let base = path.trim_end_matches('/');
        let base = format!("{}://{host}{base}", scheme.to_ascii_lowercase());
        let (logs_url, traces_url) = (format!("{base}/v1/logs"), format!("{base}/v1/traces"));
        logs_url.parse::<awc::http::Uri>().map_err(|_| bad("the host or path is malformed"))?;
        Ok(Endpoint { logs_url, traces_url, authorization })
    }

    /// The URL log records are POSTed to.
    pub fn logs_url(&self) -> &str {
        &self.logs_url
    }

    /// The URL spans are POSTed to.
    pub fn traces_url(&self) -> &str {
        &self.traces_url
    }

    /// The `Authorization` header value, if the configured URL had credentials.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The URL safe to log: never has credentials (they are not part of it).
    pub fn redacted(&self) -> &str {
        &self.logs_url
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("logs_url", &self.logs_url)
            .field("traces_url", &self.traces_url)
            .field("authorization", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Decodes `%XX` escapes in the user-info part (RFC 3986 §3.2.1); other bytes pass through.
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn builds_the_logs_url_and_hides_credentials() {
        let e = Endpoint::parse("http://audit:s%40cret@127.0.0.1:4318/otlp/").unwrap();
        assert_eq!(e.logs_url(), "http://127.0.0.1:4318/otlp/v1/logs");
        assert_eq!(e.traces_url(), "http://127.0.0.1:4318/otlp/v1/traces");
        let expected = base64::engine::general_purpose::STANDARD.encode("audit:s@cret");
        assert_eq!(e.authorization(), Some(format!("Basic {expected}").as_str()));
        let shown = format!("{e:?} {}", e.redacted());
        assert!(!shown.contains("cret") && !shown.contains(&expected), "{shown}");
        let plain = Endpoint::parse("HTTPS://collector.example:4318").unwrap();
        assert_eq!(plain.logs_url(), "https://collector.example:4318/v1/logs");
        assert_eq!(plain.authorization(), None);
    }

    #[test]
    fn rejects_unusable_urls_without_echoing_them() {
        for raw in
            ["127.0.0.1:4318", "ftp://h/", "http://", "http://h/?token=secret", "http://h h/"]
        {
            let err = Endpoint::parse(raw).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{err}");
            assert!(err.starts_with("telemetry.otlp_endpoint"), "{raw}: {err}");
        }
    }
}
