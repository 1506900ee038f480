//! nginx and HAProxy: their configurations pass the programs' own checks, and a balancer built
//! from them really steps around an instance that is down.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::process::{Guard, demo_upstream, free_port, http, installed, wait_for_port};
use crate::support::deploy_dir;

/// Runs `nginx -t` on `config` with `prefix` as its prefix directory.
fn nginx_test(config: &Path, prefix: &Path) {
    let output = Command::new(installed("nginx"))
        .args(["-t", "-q", "-e", "stderr", "-c"])
        .arg(config)
        .arg("-p")
        .arg(prefix)
        .output()
        .expect("run nginx -t");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "nginx rejects {}:\n{stderr}", config.display());
}

/// The cluster template with every placeholder filled.
fn render_cluster_template(runtime: &Path, listen: u16, ports: [u16; 3]) -> String {
    let template = std::fs::read_to_string(deploy_dir().join("nginx/cluster.conf.template"))
        .expect("read the template");
    let conf_dir = std::path::absolute(deploy_dir().join("nginx")).expect("absolute path");
    let rendered = template
        .replace("${RUNTIME_DIR}", &runtime.display().to_string())
        .replace("${CONF_DIR}", &conf_dir.display().to_string())
        .replace("${LISTEN_PORT}", &listen.to_string())
        .replace("${PORT_1}", &ports[0].to_string())
        .replace("${PORT_2}", &ports[1].to_string())
        .replace("${PORT_3}", &ports[2].to_string());
    assert!(!rendered.contains("${"), "a placeholder is left:\n{rendered}");
    rendered
}

#[test]
fn nginx_accepts_both_configurations() {
    // nginx resolves upstream names while parsing; the Compose service names exist only on the
    // Compose network, so they are pointed at loopback for the check.
    let dir = tempfile::tempdir().expect("temporary directory");
    let original = std::fs::read_to_string(deploy_dir().join("nginx/skybridge.conf"))
        .expect("read skybridge.conf");
    let mut loopback = original.clone();
    for n in 1..=3 {
        loopback = loopback.replace(&format!("skybridge-{n}:8080"), &format!("127.0.0.1:{n}"));
    }
    assert_ne!(loopback, original, "skybridge.conf should name the three Compose instances");
    std::fs::write(dir.path().join("nginx.conf"), loopback).expect("write nginx.conf");
    std::fs::copy(
        deploy_dir().join("nginx/proxy-settings.conf"),
        dir.path().join("proxy-settings.conf"),
    )
    .expect("copy the shared proxy settings");
    nginx_test(&dir.path().join("nginx.conf"), dir.path());

    let runtime = tempfile::tempdir().expect("runtime directory");
    let rendered = render_cluster_template(runtime.path(), 1, [2, 3, 4]);
    std::fs::write(runtime.path().join("nginx.conf"), rendered).expect("write rendered config");
    nginx_test(&runtime.path().join("nginx.conf"), runtime.path());
}

#[test]
fn haproxy_accepts_its_configuration() {
    let config = deploy_dir().join("haproxy/skybridge.cfg");
    let check = |env: &[(&str, String)]| {
        let output = Command::new(installed("haproxy"))
            .arg("-c")
            .arg("-f")
            .arg(&config)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("run haproxy -c");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "haproxy rejects {}:\n{stderr}", config.display());
        stderr
    };
    // With the defaults (Compose names, unresolvable here) the servers start out down.
    check(&[]);
    let loopback = cluster_env(free_port(), [(1, 1), (2, 2), (3, 3)]);
    let stderr = check(&loopback);
    assert!(!stderr.contains("could not resolve"), "{stderr}");
}

/// HAProxy's environment for three instances on loopback: (public, admin) ports.
fn cluster_env(bind: u16, instances: [(u16, u16); 3]) -> Vec<(&'static str, String)> {
    let [(p1, a1), (p2, a2), (p3, a3)] = instances;
    vec![
        ("SKYBRIDGE_BIND", format!("127.0.0.1:{bind}")),
        ("SKYBRIDGE_1", format!("127.0.0.1:{p1}")),
        ("SKYBRIDGE_2", format!("127.0.0.1:{p2}")),
        ("SKYBRIDGE_3", format!("127.0.0.1:{p3}")),
        ("SKYBRIDGE_ADMIN_PORT_1", a1.to_string()),
        ("SKYBRIDGE_ADMIN_PORT_2", a2.to_string()),
        ("SKYBRIDGE_ADMIN_PORT_3", a3.to_string()),
    ]
}

/// Sends `count` requests through the balancer on `port`; each must reach a live instance.
fn all_requests_succeed(port: u16, count: usize) {
    for index in 0..count {
        let method = if index % 2 == 0 { "GET" } else { "POST" };
        let (status, body) = http(port, method, "/through", &[]);
        assert_eq!(status, 200, "request {index} ({method}) failed: {body}");
    }
}

#[test]
fn nginx_cluster_template_steps_around_a_stopped_instance_and_keeps_request_ids() {
    let (_first, first) = demo_upstream();
    let (_second, second) = demo_upstream();
    let stopped = free_port();
    let runtime = tempfile::tempdir().expect("runtime directory");
    // nginx's workers run as an unprivileged user when the test runs as root.
    std::fs::set_permissions(runtime.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("open the runtime directory");
    let listen = free_port();
    let rendered = render_cluster_template(runtime.path(), listen, [first, stopped, second]);
    let config = runtime.path().join("nginx.conf");
    std::fs::write(&config, rendered).expect("write the rendered configuration");
    let mut command = Command::new(installed("nginx"));
    command
        .args(["-e", "stderr", "-g", "daemon off;", "-c"])
        .arg(&config)
        .arg("-p")
        .arg(runtime.path());
    let mut nginx = Guard::spawn("nginx", command);
    wait_for_port(listen, &mut nginx);

    // Round robin meets the stopped instance every third request; it is refused, so nginx
    // retries elsewhere for GET and POST alike, since nothing was sent.
    all_requests_succeed(listen, 12);

    let (status, body) = http(listen, "GET", "/echo", &[("X-Request-Id", "req-from-caller-1")]);
    assert_eq!(status, 200);
    let echo: serde_json::Value = serde_json::from_str(&body).expect("the echo is JSON");
    assert_eq!(echo["headers"]["x-request-id"], "req-from-caller-1");
    assert_eq!(echo["headers"]["x-forwarded-for"], "127.0.0.1");
    let (_, body) = http(listen, "GET", "/echo", &[]);
    let echo: serde_json::Value = serde_json::from_str(&body).expect("the echo is JSON");
    let generated = echo["headers"]["x-request-id"].as_str().expect("nginx adds a request id");
    assert_eq!(generated.len(), 32, "nginx's $request_id is 32 hex digits: {generated}");
}

#[test]
fn haproxy_takes_an_instance_whose_readiness_fails_out_of_rotation() {
    let (_first, first) = demo_upstream();
    let (_second, second) = demo_upstream();
    let (_draining, draining) = demo_upstream();
    let bind = free_port();
    // The demo upstream answers 200 on every path, /readyz included. The second instance
    // still serves its public port but its admin port refuses, as a stopped admin listener
    // would: only the readiness check can tell HAProxy to leave it alone.
    let env = cluster_env(bind, [(first, first), (draining, free_port()), (second, second)]);
    let mut command = Command::new(installed("haproxy"));
    command.arg("-db").arg("-f").arg(deploy_dir().join("haproxy/skybridge.cfg"));
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let dir = tempfile::tempdir().expect("log directory");
    let log = dir.path().join("haproxy.log");
    let mut haproxy = Guard::spawn_logging("haproxy", command, &log);
    wait_for_port(bind, &mut haproxy);

    // Two failed checks a second apart take it out of rotation.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let down = "skybridge/skybridge-2 is DOWN";
    while !std::fs::read_to_string(&log).unwrap_or_default().contains(down) {
        haproxy.assert_running();
        assert!(std::time::Instant::now() < deadline, "skybridge-2 was never marked down");
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = std::fs::read_to_string(&log).expect("read the log").len();
    all_requests_succeed(bind, 12);
    std::thread::sleep(Duration::from_millis(200));
    let after = std::fs::read_to_string(&log).expect("read the log");
    let served: Vec<&str> = after[before..].lines().filter(|l| l.contains("server=")).collect();
    assert_eq!(served.len(), 12, "one log line per request:\n{}", &after[before..]);
    assert!(served.iter().all(|l| !l.contains("server=skybridge-2 ")), "{served:#?}");
    assert!(served.iter().any(|l| l.contains("server=skybridge-1 ")), "{served:#?}");
    assert!(served.iter().any(|l| l.contains("server=skybridge-3 ")), "{served:#?}");
}
