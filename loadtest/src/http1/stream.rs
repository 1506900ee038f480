//! Opening connections to the target: plain TCP or TLS over it, as one stream type.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use openssl::ssl::SslConnector;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::error::{ErrorKind, RequestError};

/// Opens connections to one address, with TLS when a connector is set.
#[derive(Clone)]
pub struct Connector {
    address: SocketAddr,
    tls: Option<(SslConnector, String)>,
}

/// A connection's byte stream, plain or TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

// === impl Connector ===

impl Connector {
    /// A connector to `address`; with `tls`, handshakes verifying the server as `server_name`.
    pub fn new(address: SocketAddr, tls: Option<(SslConnector, String)>) -> Self {
        Self { address, tls }
    }

    pub(crate) async fn connect(&self) -> Result<Stream, RequestError> {
        let tcp = TcpStream::connect(self.address)
            .await
            .map_err(|err| RequestError::new(ErrorKind::Connect, err.to_string()))?;
        // Requests are written whole; Nagle would only add delay to small ones.
        tcp.set_nodelay(true).map_err(|err| RequestError::io(&err))?;
        let Some((connector, server_name)) = &self.tls else { return Ok(Stream::Plain(tcp)) };
        let tls_error =
            |err: &dyn std::fmt::Display| RequestError::new(ErrorKind::Tls, err.to_string());
        let ssl = connector
            .configure()
            .and_then(|config| config.into_ssl(server_name))
            .map_err(|err| tls_error(&err))?;
        let mut stream = SslStream::new(ssl, tcp).map_err(|err| tls_error(&err))?;
        Pin::new(&mut stream).connect().await.map_err(|err| tls_error(&err))?;
        Ok(Stream::Tls(Box::new(stream)))
    }
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("address", &self.address)
            .field("tls", &self.tls.as_ref().map(|(_, name)| name))
            .finish()
    }
}

// === impl Stream ===

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}
