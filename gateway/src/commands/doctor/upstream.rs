//! Links 4 and 5: the upstream reached over (m)TLS, then one authenticated `GET` with the
//! minted credential, exactly as the gateway would send it. A 401 or 403 is explained with
//! what links 3 found; a 401 is retried once with the token in the other header to tell a
//! header mix-up from a refused token.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use skybridge_shared::config::{CredentialConfig, InjectHeader};

use super::credential::Minted;
use super::failure::TransportError;
use super::refused;
use super::report::{Link, Status};
use super::transport;
use crate::state::{Runtime, Upstream, WorkerClients};

/// Longest `WWW-Authenticate` value shown.
const MAX_CHALLENGE: usize = 200;

/// Link 4: connects to the upstream; `None` in the second place when it is not reachable.
pub(crate) async fn reach(name: &str, upstream: &Arc<Upstream>) -> (Link, bool) {
    let subject = format!("upstream {name:?}");
    let target = Arc::clone(upstream);
    let result = actix_rt::task::spawn_blocking(move || transport::connect(&target)).await;
    let result = result.unwrap_or_else(|err| Err(TransportError::Tls(err.to_string())));
    match result {
        Ok(connected) => {
            let summary = match &connected.tls_version {
                Some(version) => {
                    format!("{version} to {}, certificate verified", connected.address)
                }
                None => format!("plain HTTP to {} (no TLS)", connected.address),
            };
            let mut link = Link::new(subject, Status::Ok, summary);
            if let Some(peer) = connected.peer {
                link = link.fact(format!("server certificate: {peer}"));
            }
            if upstream.tls.is_some() {
                link = link.fact("the TLS session was accepted (an HTTP request was answered)");
            }
            (link, true)
        }
        Err(err) => {
            let fix = transport_fix(&err, name);
            (Link::broken(subject, "cannot be reached", err.to_string(), fix), false)
        }
    }
}

fn transport_fix(err: &TransportError, name: &str) -> String {
    match err {
        TransportError::Dns { .. } => {
            format!("check the host in upstream {name:?}'s url and this machine's DNS")
        }
        TransportError::Refused(_) => {
            format!("check the port in upstream {name:?}'s url and that the service is running")
        }
        TransportError::Timeout(_) | TransportError::Connect { .. } => {
            "check firewalls and routes between Skybridge and the upstream, or raise \
             connect_timeout"
                .into()
        }
        TransportError::NotTrusted(_) => format!(
            "set `tls.ca` of upstream {name:?} to the CA that issued the upstream's certificate \
             (without it, the system roots are used)"
        ),
        TransportError::HostnameMismatch(_) => format!(
            "use a host name the certificate lists in upstream {name:?}'s url, or reissue the \
             certificate with that name"
        ),
        TransportError::ClientCertRejected(_) => format!(
            "set `tls.client_certificate` and `tls.client_private_key` of upstream {name:?} to \
             a certificate issued by the CA the upstream trusts for clients"
        ),
        TransportError::NotTls(_) | TransportError::Tls(_) => {
            format!("check the scheme and port in upstream {name:?}'s url")
        }
    }
}

/// Link 5's outcome: the link, and whether the upstream accepted the credential.
pub(crate) struct Probe {
    pub(crate) link: Link,
    pub(crate) accepted: bool,
}

/// Link 5: `GET path` with the credential.
pub(crate) async fn probe(
    runtime: &Runtime,
    upstream: &Upstream,
    path: &str,
    credential: Option<&CredentialConfig>,
    minted: Option<&Minted>,
) -> Probe {
    let subject = format!("probe GET {path}");
    let header = minted.map(|m| m.token.header());
    let answer = match send(runtime, upstream, path, minted, header).await {
        Ok(answer) => answer,
        Err(why) => {
            let link = Link::broken(subject, "no answer", why, "see the upstream's logs");
            return Probe { link, accepted: false };
        }
    };
    let (status, challenge) = answer;
    let summary = format!("the upstream answered {status}");
    let mut link = match status.as_u16() {
        401 => {
            let retried = retry_other_header(runtime, upstream, path, minted).await;
            refused::unauthorized(subject, summary, credential, minted, retried)
        }
        403 => refused::forbidden(subject, summary, minted),
        500.. => Link::broken(
            subject,
            summary,
            "the credential got through, but the service itself fails",
            "see the upstream's logs",
        ),
        _ if minted.is_some() => {
            Link::new(subject, Status::Ok, format!("{summary}: the credential was accepted"))
        }
        _ => Link::new(subject, Status::Ok, summary),
    };
    if let Some(challenge) = challenge {
        link = link.fact(format!("WWW-Authenticate: {challenge}"));
    }
    let accepted = !matches!(status.as_u16(), 401 | 403);
    Probe { link, accepted }
}

type Answer = (StatusCode, Option<String>);

/// Sends the probe again with the token in the other header; `Some(header)` when the
/// upstream accepted it there.
async fn retry_other_header(
    runtime: &Runtime,
    upstream: &Upstream,
    path: &str,
    minted: Option<&Minted>,
) -> Option<InjectHeader> {
    let other = match minted?.token.header() {
        InjectHeader::Authorization => InjectHeader::XServerlessAuthorization,
        InjectHeader::XServerlessAuthorization => InjectHeader::Authorization,
    };
    let (status, _) = send(runtime, upstream, path, minted, Some(other)).await.ok()?;
    (!matches!(status.as_u16(), 401 | 403)).then_some(other)
}

/// Sends the probe with the token (if any) in `header`.
async fn send(
    runtime: &Runtime,
    upstream: &Upstream,
    path: &str,
    minted: Option<&Minted>,
    header: Option<InjectHeader>,
) -> Result<Answer, String> {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let client = WorkerClients::default().get(runtime, upstream);
    let mut request = client
        .get(upstream.url(path, query))
        .timeout(upstream.request_timeout)
        .insert_header(("user-agent", "skybridge-doctor"));
    if let (Some(minted), Some(header)) = (minted, header) {
        let mut value = HeaderValue::from_str(minted.token.header_value())
            .map_err(|_| "the minted token is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        request = request.insert_header((HeaderName::from_static(header.name()), value));
    }
    let response = request.send().await.map_err(|err| format!("the request failed: {err}"))?;
    let challenge = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let challenge =
        (!challenge.is_empty()).then(|| challenge.chars().take(MAX_CHALLENGE).collect());
    Ok((response.status(), challenge))
}
