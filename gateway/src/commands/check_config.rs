//! `skybridge check-config`: load and validate a configuration without serving it.

use std::path::PathBuf;

use skybridge_shared::config;

use crate::state::Runtime;

/// Arguments of `check-config`.
#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// The configuration file to check.
    #[arg(long, short)]
    pub config: PathBuf,
}

/// Prints every problem as `FILE: KEY: REASON` on stderr; `Ok(false)` when there are any.
pub fn run(args: &CheckConfigArgs) -> bool {
    let file = args.config.display();
    let loaded = match config::load(Some(&args.config)) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("{err}");
            return false;
        }
    };
    let mut problems = loaded.validate();
    // Certificates and keys are only parsed once every referenced file is known to exist.
    if problems.is_empty()
        && let Err(tls_problems) = Runtime::build(loaded.clone(), 0)
    {
        problems = tls_problems;
    }
    if problems.is_empty() {
        println!(
            "{file}: valid ({} routes, {} upstreams, {} issuers, {} credentials).",
            loaded.routes.len(),
            loaded.upstreams.len(),
            loaded.issuers.len(),
            loaded.credentials.len()
        );
        return true;
    }
    for problem in &problems.0 {
        eprintln!("{file}: {}: {}", problem.key, problem.reason);
    }
    eprintln!("{file}: {} problem(s) found.", problems.0.len());
    false
}
