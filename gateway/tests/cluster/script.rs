//! `scripts/cluster.sh` (what `make cluster` runs) driven from a test: its state in a
//! directory of the test's own (`CLUSTER_DIR`), the binaries cargo built for the test
//! (`SKYBRIDGE_BIN_DIR`), and `down` run on drop so that a failing test leaves nothing behind.

#![allow(unreachable_pub)]

use std::process::Command;

/// `scripts/cluster.sh` in a directory of the test's own, stopped by `down` even on failure.
pub struct ScriptCluster {
    pub dir: tempfile::TempDir,
}

impl ScriptCluster {
    pub fn run(&self, command: &str) -> std::process::Output {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh");
        let binaries = std::path::Path::new(env!("CARGO_BIN_EXE_skybridge")).parent();
        Command::new(script)
            .arg(command)
            .env("CLUSTER_DIR", self.dir.path())
            .env("SKYBRIDGE_BIN_DIR", binaries.expect("binary directory"))
            .output()
            .expect("run scripts/cluster.sh")
    }

    /// A value from the `endpoints.env` that `up` writes.
    pub fn endpoint(&self, key: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("endpoints.env")).expect("env");
        let prefix = format!("{key}=");
        let line = text.lines().find_map(|l| l.strip_prefix(&prefix).map(str::to_owned));
        line.unwrap_or_else(|| panic!("no {key} in endpoints.env:\n{text}"))
    }

    /// The process ids in the pid files.
    pub fn pids(&self) -> Vec<String> {
        let dir = self.dir.path().join("pids");
        let entries: Vec<std::fs::DirEntry> =
            std::fs::read_dir(dir).map(|d| d.flatten().collect()).unwrap_or_default();
        entries
            .iter()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| t.split_whitespace().next().map(str::to_owned))
            .collect()
    }
}

impl Drop for ScriptCluster {
    fn drop(&mut self) {
        let _ = self.run("down");
    }
}
