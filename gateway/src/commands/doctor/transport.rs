//! Link 4: the upstream reachable over TCP and (m)TLS, with the connector the gateway itself
//! uses (its CA, client certificate and hostname verification), and every failure named:
//! DNS, refused, timeout, certificate not trusted, hostname mismatch, client certificate
//! rejected, not TLS at all.
//!
//! It runs on a blocking thread with std sockets so each phase has its own error. With TLS
//! 1.3 a server rejects the client certificate only after the client has finished its side
//! of the handshake, so doctor waits half a second for the server's alert, then sends one
//! `HEAD` request (without credential): its answer settles that the session was accepted.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use openssl::ssl::{ErrorCode, HandshakeError, SslStream};

use super::failure::{TransportError, certificate_error, classify, connect_error, is_timeout};
use crate::state::Upstream;

/// How long to wait after the handshake for the server to reject the client certificate.
const VERDICT_WAIT: Duration = Duration::from_millis(500);

/// What a working connection looked like.
#[derive(Debug)]
pub(crate) struct Connected {
    pub(crate) address: SocketAddr,
    /// `TLSv1.3`, or `None` for plain HTTP.
    pub(crate) tls_version: Option<String>,
    /// The server certificate's subject.
    pub(crate) peer: Option<String>,
}

/// Connects to `upstream` and completes one exchange over TLS when it is https.
pub(crate) fn connect(upstream: &Arc<Upstream>) -> Result<Connected, TransportError> {
    let (host, port) = host_and_port(upstream);
    let timeout = upstream.connect_timeout;
    let stream = open(&host, port, timeout)?;
    let address = stream.peer_addr().map_err(|err| connect_error(&host, &err))?;
    let Some(connector) = &upstream.tls else {
        return Ok(Connected { address, tls_version: None, peer: None });
    };
    let _ = stream.set_read_timeout(Some(timeout.max(upstream.request_timeout)));
    let _ = stream.set_write_timeout(Some(timeout));
    let mut tls = match connector.connect(&host, stream) {
        Ok(tls) => tls,
        Err(HandshakeError::SetupFailure(stack)) => {
            return Err(TransportError::Tls(stack.to_string()));
        }
        Err(HandshakeError::Failure(mid) | HandshakeError::WouldBlock(mid)) => {
            let verify = mid.ssl().verify_result();
            if verify.as_raw() != 0 {
                return Err(certificate_error(verify.as_raw(), verify.error_string(), &host));
            }
            return Err(classify(&ssl_text(mid.error()), &upstream.authority));
        }
    };
    exchange(&mut tls, upstream).map_err(|text| classify(&text, &upstream.authority))?;
    let peer = tls.ssl().peer_certificate().map(|cert| {
        let names: Vec<String> =
            cert.subject_name().entries().filter_map(|e| e.data().to_string().ok()).collect();
        names.join(", ")
    });
    Ok(Connected { address, tls_version: Some(tls.ssl().version_str().to_owned()), peer })
}

fn host_and_port(upstream: &Upstream) -> (String, u16) {
    let default = if upstream.scheme == "https" { 443 } else { 80 };
    let authority = upstream.authority.as_str();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().unwrap_or(default)),
        _ => (authority, default),
    };
    (host.trim_start_matches('[').trim_end_matches(']').to_owned(), port)
}

fn open(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, TransportError> {
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|err| TransportError::Dns { host: host.to_owned(), reason: err.to_string() })?
        .collect();
    let mut last = TransportError::Dns { host: host.to_owned(), reason: "no address".into() };
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                last = TransportError::Refused(address);
            }
            Err(err) => last = connect_error(&address.to_string(), &err),
        }
    }
    Err(last)
}

/// Waits briefly for a TLS 1.3 server's verdict on the client certificate (an alert comes
/// right after the handshake), then sends `HEAD` and reads the status line. Sending first
/// would make a rejecting server reset the connection and lose the alert. The error text is
/// OpenSSL's or the socket's.
fn exchange(tls: &mut SslStream<TcpStream>, upstream: &Upstream) -> Result<(), String> {
    let wait = tls.get_ref().read_timeout().ok().flatten();
    let _ = tls.get_ref().set_read_timeout(Some(VERDICT_WAIT));
    let mut first = [0u8; 1];
    match tls.ssl_read(&mut first) {
        Ok(_) => {}
        Err(err) if err.io_error().is_some_and(|io| is_timeout(io.kind())) => {}
        Err(err) if err.code() == ErrorCode::ZERO_RETURN => {
            return Err("the upstream closed the connection right after the handshake".into());
        }
        Err(err) => return Err(ssl_text(&err)),
    }
    let _ = tls.get_ref().set_read_timeout(wait);
    let path = if upstream.base_path.is_empty() { "/" } else { upstream.base_path.as_str() };
    let request = format!(
        "HEAD {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: skybridge-doctor\r\n\
         Connection: close\r\n\r\n",
        upstream.authority
    );
    tls.ssl_write(request.as_bytes()).map_err(|err| ssl_text(&err))?;
    let mut head = [0u8; 16];
    match tls.ssl_read(&mut head) {
        Ok(read) if read > 0 => Ok(()),
        Err(err) if err.code() != ErrorCode::ZERO_RETURN => Err(ssl_text(&err)),
        _ => Err("the upstream closed the connection without answering".into()),
    }
}

fn ssl_text(err: &openssl::ssl::Error) -> String {
    match (err.ssl_error(), err.io_error()) {
        (Some(stack), _) => stack.to_string(),
        (None, Some(io)) => io.to_string(),
        _ => err.to_string(),
    }
}
