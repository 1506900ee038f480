//! One invocation end to end: settings, plan, runtime, load, report.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::Args;
use crate::engine::{self, Load};
use crate::error::LoadError;
use crate::http1::Connector;
use crate::progress::{self, Progress};
use crate::report::{Report, Written};
use crate::target::Target;

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub written: Written,
}

/// Runs the suite `args` describe and writes its results folder.
pub fn run(args: &Args) -> Result<Outcome, LoadError> {
    args.validate()?;
    let target = Target::parse(&args.target)?;
    let options = args.options()?;
    let plan = args.suite.plan(&target, &options)?;
    let tls_settings = args.tls();
    let tls = match target.tls {
        true => {
            let name = tls_settings.server_name.clone().unwrap_or_else(|| target.host.clone());
            Some((tls_settings.connector()?, name))
        }
        false if tls_settings.ca.is_some() || tls_settings.certificate.is_some() => {
            return Err(LoadError::Settings("TLS options need an https:// target".into()));
        }
        false => None,
    };
    let transport = match (target.tls, tls_settings.certificate.is_some()) {
        (false, _) => "plain",
        (true, false) => "tls",
        (true, true) => "mtls",
    };
    let runtime = runtime(args.threads)?;
    let progress = Arc::new(Progress::default());
    let label = plan.suite.name().to_owned();
    let planned = plan.model.count();
    let load = Load {
        connector: Connector::new(target.address, tls),
        requests: plan.requests.clone(),
        connections: plan.connections,
        timeout: args.timeout,
        progress: Arc::clone(&progress),
    };
    let measured = runtime.block_on(async {
        let printer = progress.spawn_printer(label.clone(), planned);
        let measured = engine::run(load, plan.model).await;
        printer.abort();
        measured
    })?;
    progress::finish(&label, measured.elapsed, planned, progress.snapshot());
    let report = Report::new(&plan, &measured, target.url.clone(), transport, args.short);
    let out = args.out.clone().unwrap_or_else(|| default_out(plan.suite.name()));
    let written = report.write(&out)?;
    Ok(Outcome { report, written })
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, LoadError> {
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all().build().map_err(LoadError::Runtime)
}

fn default_out(suite: &str) -> PathBuf {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    PathBuf::from("results").join(format!("{suite}-{seconds}"))
}
