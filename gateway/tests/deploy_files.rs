//! The deployment files under deploy/ cannot rot: every YAML document parses, every Skybridge
//! configuration passes `check-config` (except for files an operator provides), the manifests
//! agree with those configurations, and nginx and HAProxy accept their configurations and
//! really spread traffic around an instance that is down.

mod deploy_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use deploy_support::process::{Guard, demo_upstream, free_port, http, installed, wait_for_port};
use deploy_support::{
    checked_config, deploy_dir, files_ending, integer, manifest, port_of, text, yaml_documents,
};

#[test]
fn every_yaml_file_parses_in_every_document() {
    let files = files_ending(&deploy_dir(), &[".yaml", ".yml"]);
    assert!(files.len() >= 7, "expected the Compose, Kubernetes and Cloud Run files: {files:?}");
    for path in files {
        let documents = yaml_documents(&path);
        assert!(!documents.is_empty(), "{} holds no document", path.display());
        for (index, document) in documents.iter().enumerate() {
            assert!(
                document.as_hash().is_some(),
                "{} document {index} is not a mapping",
                path.display()
            );
        }
    }
}

#[test]
fn every_skybridge_configuration_passes_check_config() {
    let mut configurations = files_ending(&deploy_dir(), &[".toml"]);
    // Configurations embedded in Kubernetes ConfigMaps are checked too.
    let scratch = tempfile::tempdir().expect("temporary directory");
    for path in files_ending(&deploy_dir().join("k8s"), &[".yaml"]) {
        for document in yaml_documents(&path) {
            if document["kind"].as_str() != Some("ConfigMap") {
                continue;
            }
            for (key, value) in document["data"].as_hash().into_iter().flatten() {
                let name = text(key, "ConfigMap data key");
                if name.ends_with(".toml") {
                    let extracted = scratch.path().join(name);
                    std::fs::write(&extracted, text(value, name)).expect("write extracted TOML");
                    configurations.push(extracted);
                }
            }
        }
    }
    assert!(configurations.len() >= 4, "{configurations:?}");
    for path in &configurations {
        let config = checked_config(path);
        let output = Command::new(env!("CARGO_BIN_EXE_skybridge"))
            .args(["check-config", "--config"])
            .arg(path)
            .output()
            .expect("run check-config");
        assert_eq!(
            output.status.success(),
            config.validate().is_empty(),
            "check-config disagrees with validate() on {}",
            path.display()
        );
    }
}

#[test]
fn kubernetes_probes_and_grace_period_fit_the_configuration() {
    let config_map = manifest("k8s/configmap.yaml", "ConfigMap");
    let scratch = tempfile::tempdir().expect("temporary directory");
    let file = scratch.path().join("skybridge.toml");
    std::fs::write(&file, text(&config_map["data"]["skybridge.toml"], "skybridge.toml"))
        .expect("write the ConfigMap's TOML");
    let config = checked_config(&file);

    let deployment = manifest("k8s/deployment.yaml", "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let grace = integer(&pod["terminationGracePeriodSeconds"], "terminationGracePeriodSeconds");
    let needed = config.listener.drain_delay + config.listener.shutdown_timeout;
    assert!(grace as u64 > needed.as_secs(), "grace period {grace}s must exceed {needed:?}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));

    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"].as_bool(), Some(true));
    let ports = container["ports"].as_vec().expect("container ports");
    let admin = ports.iter().find(|p| p["name"].as_str() == Some("admin")).expect("admin port");
    assert_eq!(
        integer(&admin["containerPort"], "admin port"),
        i64::from(port_of(&config.admin.address))
    );
    for (probe, path) in
        [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")]
    {
        assert_eq!(text(&container[probe]["httpGet"]["path"], probe), path);
        assert_eq!(text(&container[probe]["httpGet"]["port"], probe), "admin");
    }
    let service = manifest("k8s/service.yaml", "Service");
    for port in service["spec"]["ports"].as_vec().expect("service ports") {
        assert_ne!(port["targetPort"].as_str(), Some("admin"), "the admin port must stay private");
    }
    let budget = manifest("k8s/pdb.yaml", "PodDisruptionBudget");
    let autoscaler = manifest("k8s/hpa.yaml", "HorizontalPodAutoscaler");
    assert_eq!(integer(&budget["spec"]["maxUnavailable"], "maxUnavailable"), 1);
    assert!(integer(&autoscaler["spec"]["minReplicas"], "minReplicas") >= 3);
}

#[test]
fn compose_runs_three_instances_behind_nginx_with_distinct_ids() {
    let compose_file = deploy_dir().join("compose/docker-compose.yml");
    let compose = &yaml_documents(&compose_file)[0];
    let services = compose["services"].as_hash().expect("services");
    for needed in ["nginx", "redis", "otel-collector", "demo-upstream"] {
        assert!(services.contains_key(&yaml_rust2::Yaml::from_str(needed)), "no {needed}");
    }
    let mut ids: Vec<&str> = (1..=3)
        .map(|n| {
            let service = &compose["services"][format!("skybridge-{n}").as_str()];
            text(&service["environment"]["SKYBRIDGE__TELEMETRY__INSTANCE_ID"], "instance id")
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "instance ids must differ: {ids:?}");

    // Every file the services mount from the repository exists. The collector's configuration
    // belongs to the audit trail's part of deploy/ and may be merged separately.
    let base = compose_file.parent().expect("compose directory");
    for (name, service) in services {
        for volume in service["volumes"].as_vec().into_iter().flatten() {
            let source = text(volume, "volume").split(':').next().expect("volume source");
            if source.starts_with('.') && source != "../otel/collector.yaml" {
                let name = text(name, "service name");
                assert!(base.join(source).exists(), "{name} mounts missing {source}");
            }
        }
    }
}

#[test]
fn cloud_run_service_probes_the_admin_listener() {
    let config = checked_config(&deploy_dir().join("cloudrun/skybridge.toml"));
    // Cloud Run allows 10 seconds between SIGTERM and SIGKILL.
    assert!(
        config.listener.shutdown_timeout + config.listener.drain_delay < Duration::from_secs(10)
    );
    let service = manifest("cloudrun/service.yaml", "Service");
    let container = &service["spec"]["template"]["spec"]["containers"][0];
    let public = integer(&container["ports"][0]["containerPort"], "containerPort");
    assert_eq!(public, i64::from(port_of(&config.listener.address)));
    let admin: i64 = i64::from(port_of(&config.admin.address));
    for (probe, path) in [("startupProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        assert_eq!(text(&container[probe]["httpGet"]["path"], probe), path);
        assert_eq!(integer(&container[probe]["httpGet"]["port"], probe), admin);
    }
}

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
    let stopped = free_port();
    let bind = free_port();
    // The demo upstream answers 200 on every path, /readyz included; the stopped instance's
    // admin port refuses the check.
    let env = cluster_env(bind, [(first, first), (stopped, stopped), (second, second)]);
    let mut command = Command::new(installed("haproxy"));
    command.arg("-db").arg("-f").arg(deploy_dir().join("haproxy/skybridge.cfg"));
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut haproxy = Guard::spawn("haproxy", command);
    wait_for_port(bind, &mut haproxy);
    all_requests_succeed(bind, 12);
    // After two failed checks a second apart the instance is out; traffic still flows.
    std::thread::sleep(Duration::from_millis(2500));
    all_requests_succeed(bind, 6);
    haproxy.assert_running();
}
