//! Command-line parsing and dispatch. Exit status: 0 when every input was prepared, 1 when
//! some were refused (the others are still written), 2 on usage errors.

mod collect;
mod inspect;
pub mod mock_server;
mod prepare;
mod search_models;
mod status;
mod table;
pub mod upload;
mod webhook_server;

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
    /// Prepare files and send them to a model; write each result to RESULTS_DIR/<name>.json,
    /// keeping a job journal so that reruns never send a file twice.
    Upload(upload::UploadArgs),
    /// Show where each document of a batch stands (from its job journal).
    Status(status::StatusArgs),
    /// Finish a batch: poll every enqueued, unfinished job and write its result.
    Collect(collect::CollectArgs),
    /// Receive the API's signed webhook deliveries and write each result (secret from
    /// MINDEE_V2_WEBHOOK_SECRET).
    WebhookServer(webhook_server::WebhookServerArgs),
    /// List the organisation's models.
    SearchModels(search_models::SearchModelsArgs),
    /// Run a local simulator of the API (plain HTTP on 127.0.0.1) for offline work and tests.
    MockServer(mock_server::MockServerArgs),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Prepare(args) => prepare::run(args),
        Command::Upload(args) => upload::run(args),
        Command::Status(args) => status::run(args),
        Command::Collect(args) => collect::run(args),
        Command::WebhookServer(args) => webhook_server::run(args),
        Command::SearchModels(args) => search_models::run(args),
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
