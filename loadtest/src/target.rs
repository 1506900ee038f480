//! The target of a run: its URL checked to be on loopback, and the TLS client settings used
//! to reach it. Load is only ever aimed at 127.0.0.0/8, `::1` or `localhost` (taken to be
//! 127.0.0.1 without asking a resolver), so a typo cannot turn the tool on someone else.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use url::{Host, Url};

use crate::error::LoadError;

/// Where requests go and how their request line is built.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given, for the report (it never carries credentials: those are refused).
    pub url: String,
    /// The loopback socket address connections are opened to.
    pub address: SocketAddr,
    /// The `Host` header value, with the port when it is not the scheme's default.
    pub authority: String,
    /// The host name as written, used for SNI and certificate verification by default.
    pub host: String,
    /// Whether connections use TLS.
    pub tls: bool,
    /// The URL's path without a trailing `/`; suite paths are appended to it.
    pub base_path: String,
}

/// Client-side TLS settings: whom to trust and which certificate to present (mTLS).
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// PEM CA bundle to verify the server with; the system store when absent.
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain for mutual TLS.
    pub certificate: Option<PathBuf>,
    /// PEM private key of `certificate`.
    pub private_key: Option<PathBuf>,
    /// Name to send in SNI and verify the server certificate against; the URL's host by default.
    pub server_name: Option<String>,
}

// === impl Target ===

impl Target {
    /// Parses `url` and refuses anything that is not plain `http`/`https` on loopback.
    pub fn parse(url: &str) -> Result<Self, LoadError> {
        let invalid =
            |reason: &str| LoadError::InvalidTarget { url: url.to_owned(), reason: reason.into() };
        let parsed = Url::parse(url).map_err(|err| invalid(&err.to_string()))?;
        let tls = match parsed.scheme() {
            "http" => false,
            "https" => true,
            _ => return Err(invalid("the scheme must be http or https")),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("credentials in the URL are not accepted; use --tokens"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("a query or fragment is not accepted; use --path"));
        }
        let host_text = parsed.host_str().ok_or_else(|| invalid("the URL has no host"))?;
        let ip = loopback_ip(parsed.host().ok_or_else(|| invalid("the URL has no host"))?)
            .ok_or_else(|| LoadError::NotLoopback { host: host_text.to_owned() })?;
        let port = parsed.port_or_known_default().ok_or_else(|| invalid("no port"))?;
        let authority = match parsed.port() {
            Some(port) => format!("{host_text}:{port}"),
            None => host_text.to_owned(),
        };
        let host = host_text.trim_start_matches('[').trim_end_matches(']').to_owned();
        Ok(Self {
            url: url.to_owned(),
            address: SocketAddr::new(ip, port),
            authority,
            host,
            tls,
            base_path: parsed.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The request target for `suffix` (which starts with `/` or is empty) under the base path.
    pub fn path(&self, suffix: &str) -> String {
        let joined = format!("{}{}", self.base_path, suffix);
        if joined.is_empty() { "/".to_owned() } else { joined }
    }
}

/// The loopback address `host` stands for, or `None` when it is not loopback.
fn loopback_ip(host: Host<&str>) -> Option<IpAddr> {
    let ip = match host {
        Host::Ipv4(ip) => IpAddr::V4(ip),
        Host::Ipv6(ip) => IpAddr::V6(ip),
        // RFC 6761 §6.3: `localhost` is loopback; no resolver is asked, so no lookup leaves
        // the machine and /etc/hosts cannot redirect the load.
        Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Host::Domain(_) => return None,
    };
    ip.is_loopback().then_some(ip)
}

// === impl TlsSettings ===

impl TlsSettings {
    /// Builds the connector: HTTP/1.1 by ALPN, peer verification always on.
    pub fn connector(&self) -> Result<SslConnector, LoadError> {
        let tls = |what| move |source| LoadError::Tls { what, source };
        let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(tls("client"))?;
        builder.set_alpn_protos(b"\x08http/1.1").map_err(tls("ALPN"))?;
        builder.set_verify(SslVerifyMode::PEER);
        if let Some(ca) = &self.ca {
            readable(ca)?;
            builder.set_ca_file(ca).map_err(tls("CA bundle"))?;
        }
        match (&self.certificate, &self.private_key) {
            (Some(certificate), Some(key)) => {
                readable(certificate)?;
                readable(key)?;
                builder
                    .set_certificate_chain_file(certificate)
                    .map_err(tls("client certificate"))?;
                builder.set_private_key_file(key, SslFiletype::PEM).map_err(tls("client key"))?;
                builder.check_private_key().map_err(tls("client key matches certificate"))?;
            }
            (None, None) => {}
            _ => {
                return Err(LoadError::Settings(
                    "--cert and --key must be given together".to_owned(),
                ));
            }
        }
        Ok(builder.build())
    }
}

/// Fails with the path when a file cannot be read, before openssl's vaguer error would.
fn readable(path: &std::path::Path) -> Result<(), LoadError> {
    std::fs::metadata(path)
        .map(drop)
        .map_err(|source| LoadError::ReadFile { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_targets() {
        let target = Target::parse("http://127.0.0.1:8080/orders/").expect("test step");
        assert_eq!(target.address, "127.0.0.1:8080".parse().expect("test step"));
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(target.path("/x"), "/orders/x");
        assert!(!target.tls);
        let target = Target::parse("https://localhost").expect("test step");
        assert_eq!(target.address, "127.0.0.1:443".parse().expect("test step"));
        assert_eq!(target.path(""), "/");
        assert_eq!(target.host, "localhost");
        let target = Target::parse("http://[::1]:9000").expect("test step");
        assert_eq!(target.address, "[::1]:9000".parse().expect("test step"));
        assert_eq!(target.host, "::1");
        assert!(Target::parse("http://127.9.9.9:1").is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        for url in [
            "http://10.0.0.1:80",
            "http://169.254.169.254/",
            "http://example.com/",
            "http://localhost.example.com/",
            "http://[2001:db8::1]/",
            "http://0.0.0.0:80/",
        ] {
            assert!(
                matches!(Target::parse(url), Err(LoadError::NotLoopback { .. })),
                "{url} must be refused"
            );
        }
        for url in ["ftp://127.0.0.1/", "http://u:p@127.0.0.1/", "http://127.0.0.1/?a", "x"] {
            assert!(
                matches!(Target::parse(url), Err(LoadError::InvalidTarget { .. })),
                "{url} must be invalid"
            );
        }
    }

    #[test]
    fn tls_needs_certificate_and_key_together() {
        let settings =
            TlsSettings { certificate: Some("/nonexistent".into()), ..TlsSettings::default() };
        assert!(matches!(settings.connector(), Err(LoadError::Settings(_))));
        let settings = TlsSettings { ca: Some("/nonexistent/ca.pem".into()), ..Default::default() };
        assert!(matches!(settings.connector(), Err(LoadError::ReadFile { .. })));
    }
}
