//! `mindee-prep collect RESULTS_DIR`: polls every enqueued, unfinished job of the journal and
//! writes its result. How `upload --no-wait` and webhook batches are finished; nothing is
//! ever enqueued.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use mindee_prep::upload::batch::collect;
use mindee_prep::upload::journal;
use mindee_prep::Error;

use super::upload::{PacingFlags, PollingFlags};

/// Options of `mindee-prep collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The results folder of the batch.
    #[arg(value_name = "RESULTS_DIR")]
    pub results_dir: PathBuf,
    /// The job journal [default: RESULTS_DIR/.mindee-prep/journal.sqlite].
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Jobs polled at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// One JSON object per file on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub polling: PollingFlags,
    #[command(flatten)]
    pub pacing: PacingFlags,
}

/// Exit status 0 when every file of the journal has its result, 1 otherwise, 2 when nothing
/// could start (no key, damaged or busy journal).
pub fn run(args: CollectArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: CollectArgs) -> Result<ExitCode, Error> {
    let polling = args.polling.options()?;
    let client = super::upload::client(&args.pacing)?;
    let path = args
        .journal
        .clone()
        .unwrap_or_else(|| journal::default_path(&args.results_dir));
    if !path.is_file() {
        return Err(Error::Config(format!(
            "no job journal at {}: nothing to collect (or pass --journal)",
            path.display()
        )));
    }
    let started = Instant::now();
    let progress = super::upload::progress_bar(0);
    let runtime = super::upload::runtime()?;
    let outcomes = runtime.block_on(collect(
        &client,
        &args.results_dir,
        &path,
        polling,
        args.concurrency as usize,
        |o| super::upload::emit(args.json, o, &progress),
    ))?;
    Ok(super::upload::finish(&outcomes, args.json, started))
}
