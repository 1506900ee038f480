//! The `skybridge` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skybridge_gateway::commands::audit_query::{self, AuditQueryArgs};
use skybridge_gateway::commands::check_config::{self, CheckConfigArgs};
use skybridge_gateway::commands::doctor::{self, DoctorArgs};
use skybridge_gateway::commands::keys::{self, KeysArgs};
use skybridge_gateway::commands::token::{self, TokenArgs};
use skybridge_gateway::logging::{self, LogFormat};
use skybridge_gateway::server;

/// Skybridge: an identity-aware API gateway for serverless containers.
#[derive(Debug, Parser)]
#[command(name = "skybridge", version, about)]
struct Cli {
    /// Log format on stderr (also `SKYBRIDGE_LOG_FORMAT`); the level comes from `SKYBRIDGE_LOG`.
    #[arg(long, global = true, value_enum, env = "SKYBRIDGE_LOG_FORMAT", default_value = "human")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve until SIGTERM/SIGINT, then drain in-flight requests.
    Run(RunArgs),
    /// Load and validate a configuration; print every problem; exit 1 if any.
    CheckConfig(CheckConfigArgs),
    /// Walk every route's chain (issuers, credential, upstream TLS, an authenticated probe)
    /// and name each broken link with its cause and fix; exit 1 if any.
    Doctor(DoctorArgs),
    /// Sign development and load-test tokens.
    Token(TokenArgs),
    /// Create signing keys for the self-signed credential or development issuers.
    Keys(KeysArgs),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Search an audit trail written as OTLP-JSON lines (the collector's file export, or
    /// Skybridge's own file sink).
    Query(AuditQueryArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The configuration file; without it, the embedded defaults (loopback listeners, no
    /// routes) plus `SKYBRIDGE__*` environment overrides.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            logging::init(cli.log_format);
            run(&args)
        }
        Command::Audit(AuditCommand::Query(args)) => report(audit_query::run(&args)),
        Command::Token(args) => report(token::run(&args)),
        Command::Keys(args) => report(keys::run(&args)),
        Command::Doctor(args) => match doctor::run(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(err) => {
                eprintln!("skybridge: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::CheckConfig(args) => {
            if check_config::run(&args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Prints a command's error as one sentence with its causes, and picks the exit code.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("skybridge: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &RunArgs) -> ExitCode {
    let config = match skybridge_shared::config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("skybridge: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = actix_web::rt::System::new().block_on(server::serve(config, args.config.clone()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("skybridge: {err}");
            ExitCode::FAILURE
        }
    }
}
