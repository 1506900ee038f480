//! Test harness: certificates, the demo upstream and the gateway as real processes on
//! ephemeral loopback ports, and clients to talk to them. Every process is killed on drop.
#![allow(dead_code, unreachable_pub)]

pub mod certs;
pub mod nginx;
pub mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod};
use serde_json::Value;

pub use self::certs::Certs;
pub use self::process::Running;

/// How long any process gets to start.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A temporary directory with freshly generated certificates.
pub struct TestDir {
    pub dir: tempfile::TempDir,
    pub certs: Certs,
}

impl TestDir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = Certs::generate(dir.path());
        Self { dir, certs }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }
}

/// The demo upstream, running.
pub struct Upstream {
    pub process: Running,
    pub address: SocketAddr,
}

impl Upstream {
    /// Starts the demo upstream requiring mutual TLS with the test CA.
    pub fn mtls(certs: &Certs) -> Self {
        Self::start(&[
            "--cert".as_ref(),
            certs.upstream.cert.as_os_str(),
            "--key".as_ref(),
            certs.upstream.key.as_os_str(),
            "--client-ca".as_ref(),
            certs.ca.as_os_str(),
        ])
    }

    /// Starts the demo upstream with a certificate from an untrusted CA.
    pub fn rogue(certs: &Certs) -> Self {
        Self::start(&[
            "--cert".as_ref(),
            certs.rogue_upstream.cert.as_os_str(),
            "--key".as_ref(),
            certs.rogue_upstream.key.as_os_str(),
        ])
    }

    /// Starts the demo upstream over plain HTTP.
    pub fn plain() -> Self {
        Self::start(&[])
    }

    fn start(args: &[&std::ffi::OsStr]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_skybridge-demo-upstream"));
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        let mut process = Running::spawn(command);
        let line = process.wait_for_line(START_TIMEOUT, |l| l.contains("\"listening\""));
        let json: Value = serde_json::from_str(&line).expect("listening line");
        let address = json["listening"].as_str().expect("address").parse().expect("socket");
        Self { process, address }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

/// The `[[upstreams]]` block for an mTLS demo upstream named `name`.
pub fn mtls_upstream_block(name: &str, port: u16, certs: &Certs, extra: &str) -> String {
    format!(
        r#"
[[upstreams]]
name = "{name}"
url = "https://localhost:{port}"
{extra}
[upstreams.tls]
ca = "{ca}"
client_certificate = "{cert}"
client_private_key = "{key}"
"#,
        ca = certs.ca.display(),
        cert = certs.gateway_client.cert.display(),
        key = certs.gateway_client.key.display(),
    )
}

/// The gateway, running.
pub struct Gateway {
    pub process: Running,
    pub public: SocketAddr,
    pub admin: SocketAddr,
}

impl Gateway {
    /// Starts `skybridge run` on `config` (a file path) and waits for both listeners.
    pub fn start(config: &Path) -> Self {
        Self::start_with_env(config, &[])
    }

    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_skybridge"));
        command
            .args(["run", "--log-format", "json", "--config"])
            .arg(config)
            .env("SKYBRIDGE_LOG", "info,actix_server=warn")
            .envs(env.iter().copied());
        let mut process = Running::spawn(command);
        let public = listening(&mut process, "public");
        let admin = listening(&mut process, "admin");
        Self { process, public, admin }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.public, path)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{}", self.admin, path)
    }
}

fn listening(process: &mut Running, listener: &str) -> SocketAddr {
    let line = process.wait_for_line(START_TIMEOUT, |l| {
        l.contains("\"Listening.\"") && l.contains(&format!("\"listener\":\"{listener}\""))
    });
    let json: Value = serde_json::from_str(&line).expect("json log line");
    json["address"].as_str().expect("address").parse().expect("socket address")
}

/// A plain awc client with generous timeouts.
pub fn client() -> awc::Client {
    awc::Client::builder().timeout(Duration::from_secs(60)).finish()
}

/// An awc client trusting the test CA, optionally presenting a client certificate.
pub fn tls_client(ca: &Path, identity: Option<&certs::Pair>) -> awc::Client {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    builder.set_ca_file(ca).expect("ca");
    builder.set_alpn_protos(b"\x08http/1.1").expect("alpn");
    if let Some(pair) = identity {
        builder.set_certificate_chain_file(&pair.cert).expect("cert");
        builder.set_private_key_file(&pair.key, SslFiletype::PEM).expect("key");
    }
    let connector = awc::Connector::new().openssl(builder.build());
    awc::Client::builder().connector(connector).timeout(Duration::from_secs(60)).finish()
}

/// Sends raw bytes and returns whatever comes back before the server closes or 10 s pass.
pub fn raw_request(address: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a problem+json body and checks the members RFC 9457 and the contract require.
pub fn assert_problem(body: &[u8], status: u16, type_suffix: &str) -> Value {
    let json: Value = serde_json::from_slice(body).expect("problem+json body");
    assert_eq!(json["status"], status, "{json}");
    let kind = json["type"].as_str().expect("type");
    assert!(kind.ends_with(type_suffix), "type {kind} should end with {type_suffix}");
    assert!(json["title"].is_string(), "{json}");
    assert!(json["detail"].is_string(), "{json}");
    assert!(json["request_id"].is_string(), "{json}");
    json
}

/// A real `redis-server` on a free loopback port, killed on drop. Redis cannot bind port 0,
/// so a free port is found first and released just before Redis takes it.
pub struct Redis {
    pub process: Running,
    pub port: u16,
}

impl Redis {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut command = Command::new("redis-server");
        command.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        let mut process = Running::spawn(command);
        process.wait_for_line(START_TIMEOUT, |l| l.contains("Ready to accept connections"));
        Self { process, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// The admin listener's `/metrics` text.
pub async fn metrics_text(gateway: &Gateway) -> String {
    let mut response = client().get(gateway.admin_url("/metrics")).send().await.expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    String::from_utf8(response.body().await.expect("body").to_vec()).expect("utf-8")
}
