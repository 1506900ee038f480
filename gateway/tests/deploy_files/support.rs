//! Finding and reading the files under deploy/, and checking Skybridge configurations the way
//! `check-config` does.

use std::path::{Path, PathBuf};

use skybridge_shared::config::{self, Config};
use yaml_rust2::{Yaml, YamlLoader};

/// The repository's deploy/ directory.
pub(crate) fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every file under `dir` whose name ends with one of `suffixes`, sorted.
pub(crate) fn files_ending(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read deploy directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every YAML document of `path`; panics naming the file and position on a syntax error.
pub(crate) fn yaml_documents(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).expect("read YAML file");
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", path.display()))
}

/// The one document of `relative` (under deploy/) whose `kind` is `kind`.
pub(crate) fn manifest(relative: &str, kind: &str) -> Yaml {
    let path = deploy_dir().join(relative);
    let mut matching: Vec<Yaml> = yaml_documents(&path)
        .into_iter()
        .filter(|doc| doc["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(matching.len(), 1, "{relative} should hold exactly one {kind}");
    matching.remove(0)
}

/// `value` as a string, panicking with `what` when it is missing or not a string.
pub(crate) fn text<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value.as_str().unwrap_or_else(|| panic!("{what} is missing or not a string: {value:?}"))
}

/// `value` as an integer, panicking with `what` when it is missing.
pub(crate) fn integer(value: &Yaml, what: &str) -> i64 {
    value.as_i64().unwrap_or_else(|| panic!("{what} is missing or not an integer: {value:?}"))
}

/// Loads and validates a Skybridge configuration as `skybridge check-config` does, and
/// returns it. Files an operator provides (certificates, keys, credential files) do not exist
/// in the repository, so "cannot read" problems are accepted and nothing else is.
pub(crate) fn checked_config(path: &Path) -> Config {
    let config = config::load(Some(path))
        .unwrap_or_else(|err| panic!("{} does not load: {err}", path.display()));
    for problem in &config.validate().0 {
        assert!(
            problem.reason.starts_with("cannot read"),
            "{}: {}: {}",
            path.display(),
            problem.key,
            problem.reason
        );
    }
    config
}

/// The port of a `host:port` address.
pub(crate) fn port_of(address: &str) -> u16 {
    let (_, port) = address.rsplit_once(':').expect("an address with a port");
    port.parse().expect("a numeric port")
}
