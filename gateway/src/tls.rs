//! OpenSSL contexts for the public listener (server side) and for upstreams (client side).
//!
//! Both are built once per configuration, so a missing or malformed file is reported at
//! start (and by `check-config`) with the configuration key and path, not on first use.

use std::path::{Path, PathBuf};

use openssl::ssl::{
    SslAcceptor, SslAcceptorBuilder, SslConnector, SslFiletype, SslMethod, SslVerifyMode,
};
use skybridge_shared::config::{Config, ServerTlsConfig, UpstreamTlsConfig};

/// A certificate or key that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{key}: cannot use {}: {reason}", path.display())]
pub struct TlsError {
    /// The configuration key naming the file.
    pub key: String,
    /// The resolved path.
    pub path: PathBuf,
    /// OpenSSL's explanation.
    pub reason: String,
}

impl TlsError {
    /// The problem without the key, for lists that show the key beside it.
    pub fn describe(&self) -> String {
        if self.path.as_os_str().is_empty() {
            self.reason.clone()
        } else {
            format!("cannot use {}: {}", self.path.display(), self.reason)
        }
    }
}

fn load<T>(
    key: String,
    path: &Path,
    action: impl FnOnce(&Path) -> Result<T, openssl::error::ErrorStack>,
) -> Result<T, TlsError> {
    action(path).map_err(|err| TlsError { key, path: path.to_owned(), reason: describe(&err) })
}

/// OpenSSL's error stack as one line, e.g. "no such file" or "key values mismatch".
fn describe(err: &openssl::error::ErrorStack) -> String {
    let reasons: Vec<String> = err
        .errors()
        .iter()
        .map(|e| e.reason().map(str::to_owned).unwrap_or_else(|| e.to_string()))
        .collect();
    if reasons.is_empty() { "unusable file".to_owned() } else { reasons.join("; ") }
}

/// The public listener's acceptor; with `client_ca`, callers must present a certificate
/// issued by it (TLS 1.2+, Mozilla's intermediate profile).
pub fn acceptor(config: &Config, tls: &ServerTlsConfig) -> Result<SslAcceptorBuilder, TlsError> {
    let mut builder =
        SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(|err| TlsError {
            key: "listener.tls".into(),
            path: PathBuf::new(),
            reason: describe(&err),
        })?;
    let certificate = config.resolve(&tls.certificate);
    load("listener.tls.certificate".into(), &certificate, |p| {
        builder.set_certificate_chain_file(p)
    })?;
    let key = config.resolve(&tls.private_key);
    load("listener.tls.private_key".into(), &key, |p| {
        builder.set_private_key_file(p, SslFiletype::PEM)?;
        builder.check_private_key()
    })?;
    if let Some(ca) = &tls.client_ca {
        let ca = config.resolve(ca);
        load("listener.tls.client_ca".into(), &ca, |p| builder.set_ca_file(p))?;
        builder.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    Ok(builder)
}

/// The connector for one upstream: its private CA (or the system roots), its client
/// certificate for mutual TLS, and HTTP/1.1 only (see the note on ALPN below).
pub fn connector(
    config: &Config,
    key: &str,
    tls: Option<&UpstreamTlsConfig>,
) -> Result<SslConnector, TlsError> {
    let fail = |err: openssl::error::ErrorStack| TlsError {
        key: key.to_owned(),
        path: PathBuf::new(),
        reason: describe(&err),
    };
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(fail)?;
    // HTTP/1.1 only: bodies stream with back-pressure per connection, and awc's HTTP/2 path
    // has had throughput problems. Offering h2 is a one-line change here if wanted.
    builder.set_alpn_protos(b"\x08http/1.1").map_err(fail)?;
    match tls.and_then(|t| t.ca.as_ref()) {
        Some(ca) => {
            let ca = config.resolve(ca);
            load(format!("{key}.tls.ca"), &ca, |p| builder.set_ca_file(p))?;
        }
        None => builder.set_default_verify_paths().map_err(fail)?,
    }
    if let Some(tls) = tls
        && let (Some(cert), Some(private)) = (&tls.client_certificate, &tls.client_private_key)
    {
        let cert = config.resolve(cert);
        load(format!("{key}.tls.client_certificate"), &cert, |p| {
            builder.set_certificate_chain_file(p)
        })?;
        let private = config.resolve(private);
        load(format!("{key}.tls.client_private_key"), &private, |p| {
            builder.set_private_key_file(p, SslFiletype::PEM)?;
            builder.check_private_key()
        })?;
    }
    Ok(builder.build())
}
