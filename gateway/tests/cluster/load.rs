//! Steady load from the load-test suite (`skybridge-loadtest`'s library, suite `steady`) for
//! as long as a test needs it: back-to-back short runs on a thread until told to stop, so the
//! load covers a rolling restart whatever it takes, and every run's report is kept.

#![allow(unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use clap::Parser;
use skybridge_loadtest::cli::Args;
use skybridge_loadtest::report::Report;

/// Seconds per run: the gap between two runs (new connections) is a few milliseconds.
const RUN_SECONDS: u32 = 2;

/// Load running in the background.
pub struct SteadyLoad {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Report>>>,
}

/// What all the runs added up to.
#[derive(Debug, Default)]
pub struct Totals {
    pub runs: usize,
    pub completed: u64,
    pub ok: u64,
    pub failed: u64,
    pub unsent: u64,
    /// Every status other than 200, with its count.
    pub other_statuses: Vec<(u16, u64)>,
    /// Every kind of transport failure, with one example.
    pub failures: Vec<String>,
}

impl SteadyLoad {
    /// Starts `rate` requests a second over `connections` kept-alive connections to
    /// `target` + `path`; reports go under `out`.
    pub fn start(target: String, path: &str, rate: u32, connections: u32, out: PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let path = path.to_owned();
        let thread = std::thread::spawn(move || {
            let mut reports = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let run_out = out.join(format!("run-{}", reports.len()));
                let args = Args::try_parse_from([
                    "skybridge-loadtest".to_owned(),
                    format!("--target={target}"),
                    "--suite=steady".to_owned(),
                    format!("--path={path}"),
                    format!("--rate={rate}"),
                    format!("--duration={RUN_SECONDS}s"),
                    format!("--connections={connections}"),
                    "--timeout=10s".to_owned(),
                    format!("--out={}", run_out.display()),
                ])
                .expect("load-test arguments");
                let outcome = skybridge_loadtest::run(&args).expect("the load-test run starts");
                reports.push(outcome.report);
            }
            reports
        });
        Self { stop, thread: Some(thread) }
    }

    /// Stops after the current run and adds the runs up.
    pub fn finish(mut self) -> Totals {
        self.stop.store(true, Ordering::SeqCst);
        let reports = self.thread.take().expect("running").join().expect("load thread");
        let mut totals = Totals { runs: reports.len(), ..Totals::default() };
        for report in &reports {
            totals.completed += report.requests.completed;
            totals.failed += report.requests.failed;
            totals.unsent += report.requests.unsent;
            for (status, count) in &report.requests.statuses {
                match status {
                    200 => totals.ok += count,
                    other => totals.other_statuses.push((*other, *count)),
                }
            }
            for (kind, example) in &report.requests.first_failure {
                totals.failures.push(format!("{kind}: {example}"));
            }
        }
        totals
    }
}

impl Drop for SteadyLoad {
    fn drop(&mut self) {
        // A failing test still stops the load before its cluster goes away.
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
