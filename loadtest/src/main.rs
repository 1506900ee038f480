//! `skybridge-loadtest`: parses the command line, runs one suite, prints its Markdown
//! summary and where the results went. Exit status: 0 when every check passed, 1 when a
//! check failed, 2 when the run could not be made.

use std::process::ExitCode;

use clap::Parser;
use skybridge_loadtest::cli::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    match skybridge_loadtest::run(&args) {
        Ok(outcome) => {
            println!("{}", outcome.report.markdown());
            println!(
                "Results: {}",
                outcome.written.json.parent().map_or_else(
                    || outcome.written.json.display().to_string(),
                    |dir| dir.display().to_string(),
                )
            );
            if outcome.report.passed { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(err) => {
            eprintln!("skybridge-loadtest: {err}");
            ExitCode::from(2)
        }
    }
}
