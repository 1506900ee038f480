//! nginx from the distribution as the load balancer in front of gateway instances, configured
//! from `deploy/nginx/cluster.conf.template` (the file `make cluster` uses) with its
//! placeholders filled, everything under a runtime directory of the test's own.
//!
//! On drop the master gets SIGTERM (fast shutdown) and is waited for, so that its worker does
//! not outlive the test: a SIGKILL of the master alone would orphan the worker with the
//! listening socket still open.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::Running;

/// The repository's `deploy/nginx` directory.
pub fn nginx_dir() -> PathBuf {
    std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx"))
        .expect("absolute path")
}

/// The nginx binary: on PATH, or where Debian installs it for root.
fn binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/sbin"]) {
        let candidate = Path::new(dir).join("nginx");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("nginx is not installed: run scripts/install-deps.sh");
}

/// `cluster.conf.template` with every placeholder filled.
pub fn render_cluster_template(runtime: &Path, listen: u16, ports: [u16; 3]) -> String {
    let template = std::fs::read_to_string(nginx_dir().join("cluster.conf.template"))
        .expect("read the cluster template");
    let rendered = template
        .replace("${RUNTIME_DIR}", &runtime.display().to_string())
        .replace("${CONF_DIR}", &nginx_dir().display().to_string())
        .replace("${LISTEN_PORT}", &listen.to_string())
        .replace("${PORT_1}", &ports[0].to_string())
        .replace("${PORT_2}", &ports[1].to_string())
        .replace("${PORT_3}", &ports[2].to_string());
    assert!(!rendered.contains("${"), "a placeholder is left:\n{rendered}");
    rendered
}

/// One line of the access log: who served it, and how it went.
#[derive(Debug, Clone)]
pub struct Served {
    /// `$upstream_addr`: the instances tried, in order (`127.0.0.1:PORT`).
    pub upstreams: Vec<String>,
    /// `$status`: what the caller got.
    pub status: u16,
}

/// nginx, running in the foreground.
pub struct Nginx {
    process: Running,
    pub port: u16,
    pub runtime: PathBuf,
}

impl Nginx {
    /// Starts nginx on 127.0.0.1:`listen` in front of three instances on `ports`, with its
    /// configuration, logs and temporary files under `runtime` (created here).
    pub fn start(runtime: &Path, listen: u16, ports: [u16; 3]) -> Self {
        std::fs::create_dir_all(runtime).expect("create the nginx runtime directory");
        // When the tests run as root, nginx's worker runs as an unprivileged user and must be
        // able to reach its temporary directories.
        for dir in runtime.ancestors().take_while(|d| d.starts_with(std::env::temp_dir())) {
            if dir != std::env::temp_dir() {
                let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
                std::fs::set_permissions(dir, mode).expect("open the runtime directory");
            }
        }
        let config = runtime.join("nginx.conf");
        std::fs::write(&config, render_cluster_template(runtime, listen, ports))
            .expect("write nginx.conf");
        let mut command = Command::new(binary());
        command
            .args(["-e", "stderr", "-g", "daemon off;", "-c"])
            .arg(&config)
            .arg("-p")
            .arg(runtime);
        let mut process = Running::spawn(command);
        let deadline = Instant::now() + super::START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", listen)).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", process.drain().join("\n"));
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {listen}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { process, port: listen, runtime: runtime.to_owned() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Every access log line so far, parsed; `skip` lines from the start are left out.
    pub fn served(&self, skip: usize) -> Vec<Served> {
        let log = std::fs::read_to_string(self.runtime.join("access.log")).unwrap_or_default();
        log.lines().skip(skip).filter_map(parse_access_line).collect()
    }

    /// How many lines the access log holds now.
    pub fn log_lines(&self) -> usize {
        std::fs::read_to_string(self.runtime.join("access.log")).unwrap_or_default().lines().count()
    }

    /// nginx's error log (upstream failures are logged there).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.runtime.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Fast shutdown: the master stops its worker, then exits; Running kills whatever is
        // left when it drops right after.
        let _ = Command::new("kill").args(["-TERM", &self.process.child.id().to_string()]).status();
        let _ = self.process.wait_exit(Duration::from_secs(5));
    }
}

/// Parses the `skybridge` log format of the template:
/// `ADDR [TIME] "REQUEST" STATUS BYTES request_id=… upstream=A, B upstream_status=…`.
fn parse_access_line(line: &str) -> Option<Served> {
    let after_request = line.split('"').nth(2)?;
    let status = after_request.split_whitespace().next()?.parse().ok()?;
    let upstream = line.split(" upstream=").nth(1)?.split(" upstream_status=").next()?;
    let upstreams = upstream.split(", ").map(|s| s.trim().to_owned()).collect();
    Some(Served { upstreams, status })
}
