//! `deploy/otel/collector.yaml` is valid YAML and wires what the audit trail relies on: an
//! OTLP receiver, audit logs into a rotating JSON file, traces to an OTLP backend, and every
//! referenced component defined.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn load() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/otel/collector.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn names(list: &Yaml) -> Vec<&str> {
    list.as_vec().unwrap().iter().map(|y| y.as_str().unwrap()).collect()
}

#[test]
fn audit_logs_go_to_a_rotating_json_file_and_traces_to_otlp() {
    let doc = load();
    let http = &doc["receivers"]["otlp"]["protocols"]["http"]["endpoint"];
    assert!(http.as_str().unwrap().starts_with("127.0.0.1:"));

    let file = &doc["exporters"]["file/audit"];
    assert_eq!(file["format"].as_str(), Some("json"));
    assert!(file["path"].as_str().unwrap().ends_with(".jsonl"));
    assert!(file["rotation"]["max_megabytes"].as_i64().unwrap() > 0);
    assert!(doc["exporters"]["otlp/traces"]["endpoint"].as_str().unwrap().starts_with("${env:"));

    let pipelines = &doc["service"]["pipelines"];
    assert_eq!(names(&pipelines["logs/audit"]["exporters"]), ["file/audit"]);
    assert_eq!(names(&pipelines["traces"]["exporters"]), ["otlp/traces"]);
    let filter = &doc["processors"]["filter/audit_only"]["logs"]["log_record"][0];
    assert!(filter.as_str().unwrap().contains("skybridge.audit"));
}

#[test]
fn every_referenced_component_is_defined() {
    let doc = load();
    let service = &doc["service"];
    for ext in names(&service["extensions"]) {
        assert!(!doc["extensions"][ext].is_badvalue(), "extension {ext}");
    }
    for (name, pipeline) in service["pipelines"].as_hash().unwrap() {
        for kind in ["receivers", "processors", "exporters"] {
            for component in names(&pipeline[kind]) {
                let defined = !doc[kind][component].is_badvalue();
                assert!(defined, "{name:?} uses undefined {kind} {component}");
            }
        }
    }
}
