//! Test harness for the audit trail: a real OpenTelemetry collector (`rotel`, from the
//! project's `.venv`) chained to `scripts/otlp-sink.py`, which writes what it receives as
//! OTLP-JSON lines. Everything binds 127.0.0.1 on ports the kernel picks; every process is
//! killed when its guard drops, even when a test fails.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    child: Child,
}

impl Proc {
    fn id(&self) -> u32 {
        self.child.id()
    }

    /// Asks the process to stop with SIGTERM and waits up to `grace` for it, then kills it.
    fn terminate(mut self, grace: Duration) {
        let _ = Command::new("kill").args(["-TERM", &self.id().to_string()]).status();
        let end = Instant::now() + grace;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scripts/otlp-sink.py`, writing OTLP-JSON lines to [`OtlpSink::out`].
pub struct OtlpSink {
    _proc: Proc,
    pub port: u16,
    pub out: PathBuf,
}

impl OtlpSink {
    pub fn start(dir: &Path) -> OtlpSink {
        let root = workspace_root();
        let out = dir.join("trail.jsonl");
        let mut child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/otlp-sink.py"))
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run scripts/install-deps.sh: .venv/bin/python is missing");
        let stdout = child.stdout.take().unwrap();
        let proc = Proc { child };
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        let port = first.trim().strip_prefix("listening ").expect("sink did not start").parse();
        OtlpSink { _proc: proc, port: port.unwrap(), out }
    }
}

/// The rotel collector, forwarding everything over OTLP/HTTP to a sink.
pub struct Rotel {
    proc: Option<Proc>,
    pub http_port: u16,
    grpc_port: u16,
    sink_port: u16,
    dir: PathBuf,
    pub log: PathBuf,
}

impl Rotel {
    pub fn start(dir: &Path, sink_port: u16) -> Rotel {
        let mut rotel = Rotel {
            proc: None,
            http_port: free_port(),
            grpc_port: free_port(),
            sink_port,
            dir: dir.to_owned(),
            log: dir.join("rotel.log"),
        };
        rotel.resume();
        rotel
    }

    /// Starts (again) on the same ports.
    pub fn resume(&mut self) {
        let agent = workspace_root().join(".venv/lib/python3.11/site-packages/rotel/rotel-agent");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(agent)
            .args(["start", "--otlp-http-endpoint", &format!("127.0.0.1:{}", self.http_port)])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{}", self.grpc_port)])
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
            .args(["--otlp-exporter-endpoint", &format!("http://127.0.0.1:{}", self.sink_port)])
            .arg("--pid-file")
            .arg(self.dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(self.dir.join("rotel-daemon.log"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("run scripts/install-deps.sh: rotel is missing from .venv");
        self.proc = Some(Proc { child });
        wait_until("rotel to listen", Duration::from_secs(15), || {
            TcpStream::connect(("127.0.0.1", self.http_port)).is_ok()
        });
    }

    /// Stops it gracefully (SIGTERM), so what it accepted is forwarded first.
    pub fn stop(&mut self) {
        if let Some(proc) = self.proc.take() {
            proc.terminate(Duration::from_secs(10));
        }
        wait_until("rotel to stop listening", Duration::from_secs(5), || {
            TcpStream::connect(("127.0.0.1", self.http_port)).is_err()
        });
    }
}

/// A port that was free a moment ago (rotel takes addresses, not a listening socket).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything every thread of this test binary logged, at every level.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || SharedWriter(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every file under `dir`, recursively, that contains `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(path);
        }
    }
    found
}
