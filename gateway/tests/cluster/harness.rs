//! The cluster the scale tests run against: a real Redis, the mTLS demo upstream, optionally
//! the collector (rotel → `scripts/otlp-sink.py`), three `skybridge` instances sharing one
//! configuration file and nginx from `deploy/nginx/cluster.conf.template` in front of them.
//! Every instance keeps its ports for its whole life, so a restarted instance is where nginx
//! expects it. Everything binds 127.0.0.1 and stops when the cluster drops.

#![allow(unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::nginx::Nginx;
use crate::common::{Gateway, Redis, TestDir, Upstream, mtls_upstream_block};
use crate::support::{OtlpSink, Rotel};

/// `drain_delay` of every instance: long enough for nginx to retire its pooled connections
/// (each answer while draining says `Connection: close`), short enough for a quick test.
pub const DRAIN_DELAY: &str = "1s";

/// The collector chain: rotel forwards to the sink, which writes OTLP-JSON lines.
pub struct Collector {
    pub rotel: Rotel,
    pub sink: OtlpSink,
}

/// One gateway instance with fixed ports.
pub struct Instance {
    pub id: String,
    pub public: u16,
    pub admin: u16,
    spool: PathBuf,
    /// `None` while stopped.
    pub gateway: Option<Gateway>,
}

/// Three instances behind nginx. Fields drop in order: the balancer first, the files last.
pub struct Cluster {
    pub nginx: Nginx,
    pub instances: Vec<Instance>,
    pub upstream: Upstream,
    pub collector: Option<Collector>,
    pub redis: Redis,
    pub config: PathBuf,
    pub dir: TestDir,
}

impl Cluster {
    /// Starts everything; `collector` adds rotel and the sink, `routes` extra `[[routes]]`.
    pub fn start(collector: bool, routes: &str) -> Self {
        let dir = TestDir::new();
        let redis = Redis::start();
        let upstream = Upstream::mtls(&dir.certs);
        let collector = collector.then(|| {
            let sink = OtlpSink::start(dir.path());
            let rotel = Rotel::start(dir.path(), sink.port);
            Collector { rotel, sink }
        });
        let config = dir.path().join("skybridge.toml");
        let [nginx_port, ports @ ..] = free_ports::<7>();
        let cluster_instances = (0..3)
            .map(|i| Instance {
                id: format!("gw-{}", i + 1),
                public: ports[2 * i],
                admin: ports[2 * i + 1],
                spool: dir.path().join(format!("spool-{}", i + 1)),
                gateway: None,
            })
            .collect::<Vec<_>>();
        let public = [0, 1, 2].map(|i| cluster_instances[i].public);
        let nginx = Nginx::start(&dir.path().join("nginx"), nginx_port, public);
        let mut cluster =
            Self { nginx, instances: cluster_instances, upstream, collector, redis, config, dir };
        std::fs::write(&cluster.config, cluster.config_text(routes)).expect("write config");
        for index in 0..3 {
            cluster.start_instance(index);
        }
        cluster
    }

    /// The shared configuration with `routes` appended. Listener addresses, the instance id
    /// and the spool come from each instance's environment.
    pub fn config_text(&self, routes: &str) -> String {
        let telemetry = match &self.collector {
            Some(collector) => {
                format!("otlp_endpoint = \"http://127.0.0.1:{}\"\n", collector.rotel.http_port)
            }
            None => String::new(),
        };
        format!(
            r#"
[listener]
address = "127.0.0.1:0"
drain_delay = "{DRAIN_DELAY}"
shutdown_timeout = "5s"
[admin]
address = "127.0.0.1:0"
[rate_limit]
redis_url = "{redis}"
timeout = "250ms"
[[rate_limit.policies]]
name = "ten-per-minute"
limit = 10
period = "1m"
key = "route"
{upstream}
[[routes]]
name = "demo"
path_prefix = "/demo"
upstream = "demo"
auth = "anonymous"
[[routes]]
name = "limited"
path_prefix = "/limited"
upstream = "demo"
auth = "anonymous"
rate_limits = ["ten-per-minute"]
{routes}
[telemetry]
service_name = "skybridge-cluster-test"
{telemetry}"#,
            redis = self.redis.url(),
            upstream = mtls_upstream_block("demo", self.upstream.port(), &self.dir.certs, ""),
        )
    }

    /// Starts instance `index` on its ports and waits until it reports ready.
    pub fn start_instance(&mut self, index: usize) {
        let instance = &mut self.instances[index];
        let public = format!("127.0.0.1:{}", instance.public);
        let admin = format!("127.0.0.1:{}", instance.admin);
        let spool = instance.spool.display().to_string();
        let gateway = Gateway::start_with_env(
            &self.config,
            &[
                ("SKYBRIDGE__LISTENER__ADDRESS", public.as_str()),
                ("SKYBRIDGE__ADMIN__ADDRESS", admin.as_str()),
                ("SKYBRIDGE__TELEMETRY__INSTANCE_ID", instance.id.as_str()),
                ("SKYBRIDGE__TELEMETRY__SPOOL_DIR", spool.as_str()),
            ],
        );
        instance.gateway = Some(gateway);
        let deadline = Instant::now() + Duration::from_secs(20);
        while status(instance.admin, "/readyz") != 200 {
            assert!(Instant::now() < deadline, "{} never became ready", instance.id);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM to instance `index`, checks that it reports not-ready while it still
    /// serves, and waits for a clean exit.
    pub fn stop_instance(&mut self, index: usize) {
        let instance = &mut self.instances[index];
        let mut gateway = instance.gateway.take().expect("instance is running");
        gateway.process.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while status(instance.admin, "/readyz") != 503 {
            assert!(Instant::now() < deadline, "{} never reported not-ready", instance.id);
            std::thread::sleep(Duration::from_millis(20));
        }
        let exit = gateway.process.wait_exit(Duration::from_secs(20));
        let exit = exit.unwrap_or_else(|| panic!("{} did not exit after SIGTERM", instance.id));
        assert!(exit.success(), "{} exited with {exit}", instance.id);
    }

    /// Sends `signal` to every running instance.
    pub fn signal_all(&self, signal: i32) {
        for instance in &self.instances {
            instance.gateway.as_ref().expect("running").process.signal(signal);
        }
    }

    /// Waits until every instance logged a line containing `needle`.
    pub fn wait_all_logged(&mut self, needle: &str) {
        for instance in &mut self.instances {
            let gateway = instance.gateway.as_mut().expect("running");
            gateway.process.wait_for_line(Duration::from_secs(10), |l| l.contains(needle));
        }
    }

    /// Waits until nginx's access log, after line `since`, shows a 200 that instance `index`
    /// answered: nginx skips an instance for `fail_timeout` (10s) after failed attempts, so
    /// a restarted instance only takes traffic again after that.
    pub fn wait_until_balanced_to(&self, index: usize, since: usize, limit: Duration) -> Duration {
        let started = Instant::now();
        let address = format!("127.0.0.1:{}", self.instances[index].public);
        loop {
            let served = self.nginx.served(since);
            if served.iter().any(|s| s.status == 200 && s.upstreams.last() == Some(&address)) {
                return started.elapsed();
            }
            assert!(started.elapsed() < limit, "nginx never sent traffic to {address} again");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `N` ports that were free a moment ago, all different: they are held together while the
/// kernel picks them, since two ports picked one after the other may be the same.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> =
        (0..N).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port")).collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("local address").port())
}

/// The status of a blocking `GET` to 127.0.0.1:`port`, 0 when nothing answered.
pub fn status(port: u16, path: &str) -> u16 {
    get(port, path).0
}

/// A blocking `GET` on a fresh connection: (status, body); (0, "") when nothing answered.
pub fn get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: cluster\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let response = String::from_utf8_lossy(&bytes);
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Runs `skybridge audit query --format json` on `trail` with `filters`.
pub fn audit_query(trail: &std::path::Path, filters: &[&str]) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["audit", "query", "--format", "json", "--file"])
        .arg(trail)
        .args(filters)
        .output()
        .expect("run skybridge audit query");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record per line"))
        .collect()
}
