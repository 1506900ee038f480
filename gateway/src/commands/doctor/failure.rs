//! Naming why an upstream cannot be reached, from the socket's error kind, the certificate
//! verification result or OpenSSL's alert and reason strings.

use std::io::ErrorKind;
use std::net::SocketAddr;

/// X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH (openssl x509_vfy.h).
const NAME_MISMATCH: [i32; 2] = [62, 64];
/// Why the upstream cannot be reached. Messages are plain words for an operator.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// The host name does not resolve.
    #[error("DNS: cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    /// Nothing listens on the port.
    #[error("connection refused by {0}: nothing listens there")]
    Refused(SocketAddr),
    /// No answer in time.
    #[error("no answer from {0} within the connect timeout")]
    Timeout(String),
    /// Another socket error.
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The server's certificate does not chain to a trusted CA (or is expired, ...).
    #[error("the upstream's certificate is not trusted: {0}")]
    NotTrusted(String),
    /// The certificate is valid but for other names.
    #[error("hostname mismatch: the upstream's certificate is not valid for {0}")]
    HostnameMismatch(String),
    /// The server refused our client certificate, or wanted one and got none.
    #[error("the upstream rejected the client certificate: {0}")]
    ClientCertRejected(String),
    /// The port does not speak TLS.
    #[error("the upstream does not speak TLS on this port: {0}")]
    NotTls(String),
    /// Any other TLS failure.
    #[error("TLS failed: {0}")]
    Tls(String),
}

pub(crate) fn is_timeout(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::TimedOut | ErrorKind::WouldBlock)
}

pub(crate) fn connect_error(address: &str, err: &std::io::Error) -> TransportError {
    match err.kind() {
        kind if is_timeout(kind) => TransportError::Timeout(address.to_owned()),
        _ => TransportError::Connect { address: address.to_owned(), reason: err.to_string() },
    }
}

pub(crate) fn certificate_error(code: i32, text: &str, host: &str) -> TransportError {
    if NAME_MISMATCH.contains(&code) {
        TransportError::HostnameMismatch(host.to_owned())
    } else {
        TransportError::NotTrusted(text.to_owned())
    }
}

/// Names a TLS failure from OpenSSL's text (its alert and reason strings).
pub(crate) fn classify(text: &str, authority: &str) -> TransportError {
    let lower = text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("certificate required") {
        TransportError::ClientCertRejected(
            "the upstream requires a client certificate and none was accepted".into(),
        )
    } else if [
        "unknown ca",
        "bad certificate",
        "certificate unknown",
        "unsupported certificate",
        "certificate revoked",
        "certificate expired",
        "access denied",
    ]
    .iter()
    .any(|alert| has(alert))
    {
        TransportError::ClientCertRejected(text.to_owned())
    } else if [
        "wrong version number",
        "packet length too long",
        "unknown protocol",
        "record layer failure",
        "http request",
    ]
    .iter()
    .any(|sign| has(sign))
    {
        TransportError::NotTls(format!("{text} (is it plain HTTP? then use http:// in the url)"))
    } else if has("timed out") || has("would block") || has("resource temporarily unavailable") {
        TransportError::Timeout(authority.to_owned())
    } else {
        TransportError::Tls(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_texts_are_named() {
        let cases = [
            (
                "error:0A00045C:SSL routines::tlsv13 alert certificate required",
                "client certificate",
            ),
            ("error:0A000418:SSL routines::tlsv1 alert unknown ca", "client certificate"),
            ("error:0A00010B:SSL routines::wrong version number", "does not speak TLS"),
            ("Resource temporarily unavailable (os error 11)", "no answer"),
            ("error:0A000126:SSL routines::unexpected eof while reading", "TLS failed"),
        ];
        for (text, named) in cases {
            let err = classify(text, "orders:443").to_string();
            assert!(err.contains(named), "{text}: {err}");
        }
    }

    #[test]
    fn certificate_results_are_named() {
        assert!(matches!(certificate_error(62, "x", "h"), TransportError::HostnameMismatch(_)));
        let untrusted = certificate_error(20, "unable to get local issuer certificate", "h");
        assert!(untrusted.to_string().contains("not trusted: unable to get local issuer"));
    }
}
