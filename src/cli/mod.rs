//! Command-line parsing and dispatch. Exit status: 0 when every input was prepared, 1 when
//! some were refused (the others are still written), 2 on usage errors.

mod inspect;
pub mod mock_server;
mod prepare;
mod table;
pub mod upload;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Gets documents and photos ready for the Mindee API (V2): detect, downscale, upload.
#[derive(Debug, Parser)]
#[command(name = "mindee-prep", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what detection sees in each file, one JSON object per line.
    Inspect(inspect::InspectArgs),
    /// Prepare files for upload: refuse what the API refuses, downscale what is too large.
    Prepare(prepare::PrepareArgs),
    /// Prepare files and send them to a model; write each result to RESULTS_DIR/<stem>.json.
    Upload(upload::UploadArgs),
    /// Run a local simulator of the API (plain HTTP on 127.0.0.1) for offline work and tests.
    MockServer(mock_server::MockServerArgs),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Prepare(args) => prepare::run(args),
        Command::Upload(args) => upload::run(args),
        Command::MockServer(args) => mock_server::run(args),
    }
}

/// Exit status for a batch: 0 all good, 1 some refused.
pub(crate) fn batch_status(failures: usize) -> ExitCode {
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Usage errors found after parsing (bad numbers, missing inputs): message and status 2.
pub(crate) fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mindee-prep: {message}");
    ExitCode::from(2)
}
