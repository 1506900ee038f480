//! `skybridge-demo-upstream`: a small upstream for the demo and the tests. It answers every
//! request with a JSON echo of what it received (method, path, query, headers, body size and
//! SHA-256, the client certificate's subject), and requires mutual TLS when given a client CA.
//!
//! A few paths containing `/_demo/` make it misbehave on purpose: `/_demo/bytes/N` streams N bytes,
//! `/_demo/delay/MS` answers after MS milliseconds, `/_demo/status/CODE` answers CODE.
//! It prints one JSON line `{"listening": "...", "scheme": "..."}` once bound.

use std::any::Any;
use std::time::Duration;

use actix_tls::accept::openssl::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use futures_util::StreamExt;
use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};
use serde_json::{Map, Value, json};

/// A demo upstream that echoes requests, over HTTP, TLS or mutual TLS.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// PEM certificate chain; with `--key`, serve HTTPS.
    #[arg(long, requires = "key")]
    cert: Option<std::path::PathBuf>,
    /// PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    key: Option<std::path::PathBuf>,
    /// PEM CA bundle; when set, clients must present a certificate it issued.
    #[arg(long, requires = "cert")]
    client_ca: Option<std::path::PathBuf>,
    /// Require a bearer token verified against the JWKS at this URL (fetched per request),
    /// the way Cloud Run checks its callers' ID tokens.
    #[arg(long, requires = "verify_audience")]
    verify_jwks_url: Option<String>,
    /// The audience the token must carry.
    #[arg(long)]
    verify_audience: Option<String>,
    /// The header holding the token.
    #[arg(long, default_value = "authorization")]
    verify_header: String,
}

/// What verified tokens must satisfy.
#[derive(Clone)]
struct Verify {
    jwks_url: String,
    audience: String,
    header: String,
}

/// The verified client certificate's subject, recorded per connection.
#[derive(Clone)]
struct PeerSubject(String);

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = std::net::TcpListener::bind(&args.listen)?;
    let address = listener.local_addr()?;
    let verify = match (args.verify_jwks_url, args.verify_audience) {
        (Some(jwks_url), Some(audience)) => {
            Some(Verify { jwks_url, audience, header: args.verify_header })
        }
        _ => None,
    };
    let server = HttpServer::new(move || {
        App::new().app_data(web::Data::new(verify.clone())).default_service(web::to(answer))
    })
    .workers(2)
    .on_connect(record_peer);
    let (server, scheme) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
            builder.set_certificate_chain_file(cert)?;
            builder.set_private_key_file(key, SslFiletype::PEM)?;
            if let Some(ca) = &args.client_ca {
                builder.set_ca_file(ca)?;
                builder.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
            }
            (server.listen_openssl(listener, builder)?, "https")
        }
        _ => (server.listen(listener)?, "http"),
    };
    println!("{}", json!({ "listening": address.to_string(), "scheme": scheme }));
    actix_web::rt::System::new().block_on(server.run())?;
    Ok(())
}

fn record_peer(connection: &dyn Any, extensions: &mut Extensions) {
    let Some(tls) = connection.downcast_ref::<TlsStream<TcpStream>>() else { return };
    if let Some(cert) = tls.ssl().peer_certificate() {
        let subject: Vec<String> =
            cert.subject_name().entries().filter_map(|e| e.data().to_string().ok()).collect();
        extensions.insert(PeerSubject(subject.join(",")));
    }
}

/// Checks the bearer token like Cloud Run: signature against the issuer's current keys,
/// audience, expiry (no leeway). Returns the verified claims or why they were refused.
async fn verify_token(request: &HttpRequest, verify: &Verify) -> Result<Value, String> {
    let value = request.headers().get(verify.header.as_str()).ok_or("no token")?;
    let token =
        value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or("not a bearer token")?;
    let header = jsonwebtoken::decode_header(token).map_err(|err| format!("bad header: {err}"))?;
    let mut response = awc::Client::default()
        .get(&verify.jwks_url)
        .send()
        .await
        .map_err(|err| format!("cannot fetch keys: {err}"))?;
    let jwks: jsonwebtoken::jwk::JwkSet =
        response.json().await.map_err(|err| format!("bad key set: {err}"))?;
    let kid = header.kid.as_deref().ok_or("no kid")?;
    let jwk = jwks.find(kid).ok_or_else(|| format!("unknown kid {kid}"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|err| format!("bad key: {err}"))?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[&verify.audience]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|err| format!("rejected: {err}"))
}

async fn answer(request: HttpRequest, mut body: web::Payload) -> HttpResponse {
    let verified =
        match request.app_data::<web::Data<Option<Verify>>>().and_then(|v| v.as_ref().as_ref()) {
            Some(verify) => match verify_token(&request, verify).await {
                Ok(claims) => Some(claims),
                Err(why) => {
                    return HttpResponse::Unauthorized()
                        .insert_header(("www-authenticate", "Bearer error=\"invalid_token\""))
                        .json(json!({ "error": why }));
                }
            },
            None => None,
        };
    let mut size = 0u64;
    let mut hasher = openssl::sha::Sha256::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            Err(err) => return HttpResponse::BadRequest().body(format!("body failed: {err}")),
        }
    }
    let path = request.path();
    // The demo paths work under any route prefix, e.g. `/orders/_demo/delay/100`.
    let demo = path.find("/_demo/").map_or("", |at| &path[at..]);
    if let Some(count) = demo.strip_prefix("/_demo/bytes/").and_then(|n| n.parse::<u64>().ok()) {
        return stream_bytes(count);
    }
    if let Some(ms) = demo.strip_prefix("/_demo/delay/").and_then(|n| n.parse::<u64>().ok()) {
        actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = demo
        .strip_prefix("/_demo/status/")
        .and_then(|n| n.parse::<u16>().ok())
        .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut headers = Map::new();
    for (name, value) in request.headers() {
        let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        match headers.get_mut(name.as_str()) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.clone(), value]),
            None => {
                headers.insert(name.as_str().to_owned(), value);
            }
        }
    }
    let peer = request.conn_data::<PeerSubject>().map(|p| p.0.clone());
    let digest: String = hasher.finish().iter().map(|b| format!("{b:02x}")).collect();
    HttpResponse::build(status).json(json!({
        "method": request.method().as_str(),
        "path": path,
        "query": request.query_string(),
        "headers": headers,
        "body_bytes": size,
        "body_sha256": digest,
        "client_certificate": peer,
        "verified_token": verified,
    }))
}

/// Streams `count` bytes in 64 KiB chunks without holding them all.
fn stream_bytes(count: u64) -> HttpResponse {
    const CHUNK: u64 = 64 * 1024;
    let chunk = Bytes::from(vec![b'x'; CHUNK as usize]);
    let stream = futures_util::stream::unfold(count, move |left| {
        let chunk = chunk.clone();
        async move {
            if left == 0 {
                return None;
            }
            let take = left.min(CHUNK);
            Some((Ok::<_, std::io::Error>(chunk.slice(..take as usize)), left - take))
        }
    });
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(actix_web::body::SizedStream::new(count, stream))
}
