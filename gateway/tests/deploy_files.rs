//! The deployment files under deploy/ cannot rot: every YAML document parses, every Skybridge
//! configuration passes `check-config` (except for files an operator provides), the manifests
//! agree with those configurations, and nginx and HAProxy accept their configurations and
//! really spread traffic around an instance that is down.

// A test crate's root resolves modules beside it, not in a folder named after it.
#[path = "deploy_files/balancers.rs"]
mod balancers;
#[path = "deploy_files/process.rs"]
mod process;
#[path = "deploy_files/support.rs"]
mod support;

use std::process::Command;
use std::time::Duration;

use support::{
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
