//! `mindee-prep upload`: arguments and output over [`mindee_prep::upload::batch`], which
//! prepares on rayon while uploading with bounded concurrency.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mindee_prep::upload::batch::{upload_files, UploadBatch, UploadOutcome, UploadStatus};
use mindee_prep::upload::{Client, EnqueueParams, PollingOptions, Product};
use mindee_prep::{expand_inputs, Error};
use serde_json::{json, Value};

/// Options of `mindee-prep upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The model to send to (a UUID from the Mindee platform).
    #[arg(long, value_name = "UUID")]
    pub model_id: String,
    /// The kind of model.
    #[arg(long, value_enum, default_value_t = ProductArg::Extraction)]
    pub product: ProductArg,
    /// A free-text alias sent with every file.
    #[arg(long, value_name = "A")]
    pub alias: Option<String>,
    /// Deliver results to this webhook too (repeatable).
    #[arg(long = "webhook-id", value_name = "ID")]
    pub webhook_ids: Vec<String>,
    /// Print the job IDs instead of waiting for the results.
    #[arg(long)]
    pub no_wait: bool,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Where results are written, as <stem>.json.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "RESULTS_DIR",
        default_value = "results"
    )]
    pub results_dir: PathBuf,
    /// Redo files whose result already exists.
    #[arg(long)]
    pub force: bool,
    /// One JSON object per input on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Seconds before the first poll of a job (at least 1).
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub initial_delay: f64,
    /// Seconds between polls (at least 1).
    #[arg(long, default_value_t = 1.5, value_name = "SECS")]
    pub poll_interval: f64,
    /// Polls before giving up on a job.
    #[arg(long, default_value_t = 80, value_name = "N")]
    pub max_polls: u32,
    #[command(flatten)]
    pub prepare: super::prepare::PrepareFlags,
    /// Files or directories (recursed).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// `--product` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProductArg {
    /// Field extraction.
    Extraction,
    /// Split into documents.
    Split,
    /// Find documents in a photo.
    Crop,
    /// Words and positions.
    Ocr,
    /// Document class.
    Classification,
}

impl From<ProductArg> for Product {
    fn from(p: ProductArg) -> Product {
        match p {
            ProductArg::Extraction => Product::Extraction,
            ProductArg::Split => Product::Split,
            ProductArg::Crop => Product::Crop,
            ProductArg::Ocr => Product::Ocr,
            ProductArg::Classification => Product::Classification,
        }
    }
}

fn outcome_json(o: &UploadOutcome) -> Value {
    let input = o.input.display().to_string();
    let err = |e: &Error| json!({"kind": e.kind().as_str(), "message": e.to_string()});
    match &o.status {
        UploadStatus::Done { job_id, output } => json!({
            "input": input, "status": "ok", "job_id": job_id,
            "output": output.display().to_string(), "millis": o.millis,
        }),
        UploadStatus::Skipped { output } => json!({
            "input": input, "status": "skipped", "output": output.display().to_string(),
        }),
        UploadStatus::Enqueued { job_id } => json!({
            "input": input, "status": "enqueued", "job_id": job_id, "millis": o.millis,
        }),
        UploadStatus::Rejected(e) => json!({"input": input, "status": "rejected", "error": err(e)}),
        UploadStatus::Failed { job_id, error } => json!({
            "input": input, "status": "failed", "job_id": job_id, "error": err(error),
            "millis": o.millis,
        }),
        _ => json!({"input": input, "status": "unknown"}),
    }
}

fn table_row(o: &UploadOutcome) -> (String, String) {
    match &o.status {
        UploadStatus::Done { output, .. } => ("ok".into(), output.display().to_string()),
        UploadStatus::Skipped { output } => (
            "skipped".into(),
            format!("{} exists (--force redoes it)", output.display()),
        ),
        UploadStatus::Enqueued { job_id } => ("enqueued".into(), format!("job {job_id}")),
        UploadStatus::Rejected(e) => ("rejected".into(), format!("{}: {e}", e.kind())),
        UploadStatus::Failed { job_id, error } => (
            "failed".into(),
            match job_id {
                Some(j) => format!("{}: {error} (job {j})", error.kind()),
                None => format!("{}: {error}", error.kind()),
            },
        ),
        _ => ("unknown".into(), String::new()),
    }
}

/// Runs the command; exit status 0 when every input was sent (or skipped), 1 when some failed,
/// 2 when nothing could start (configuration).
pub fn run(args: UploadArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn secs(name: &str, v: f64) -> Result<Duration, Error> {
    if !v.is_finite() || !(0.0..=3600.0).contains(&v) {
        return Err(Error::Config(format!(
            "{name} must be between 1 and 3600 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

fn run_inner(args: UploadArgs) -> Result<ExitCode, Error> {
    let polling = PollingOptions {
        initial_delay: secs("--initial-delay", args.initial_delay)?,
        interval: secs("--poll-interval", args.poll_interval)?,
        max_polls: args.max_polls,
    };
    polling.validate()?;
    let prepare = args.prepare.options();
    prepare.validate()?;
    let mut params = EnqueueParams::new(args.model_id.clone()).product(args.product.into());
    if let Some(a) = &args.alias {
        params = params.alias(a.clone());
    }
    for id in &args.webhook_ids {
        params = params.webhook_id(id.clone());
    }
    // Before any work: a missing key or a refused base URL stops everything.
    let client = Client::from_env()?;
    let files = expand_inputs(&args.inputs)?;

    let started = Instant::now();
    let progress = if std::io::stderr().is_terminal() && !files.is_empty() {
        let pb =
            ProgressBar::with_draw_target(Some(files.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            pb.set_style(style);
        }
        pb
    } else {
        ProgressBar::hidden()
    };
    let batch = UploadBatch {
        polling,
        concurrency: args.concurrency as usize,
        force: args.force,
        wait: !args.no_wait,
        prepare,
        ..UploadBatch::new(params, &args.results_dir)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            context: "starting the async runtime".into(),
            source: e,
        })?;
    let outcomes = runtime.block_on(upload_files(&client, files, &batch, |o| {
        emit(&args, o, &progress)
    }));
    progress.finish_and_clear();

    if !args.json {
        print_table(&outcomes);
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let count = |f: fn(&UploadStatus) -> bool| outcomes.iter().filter(|o| f(&o.status)).count();
    eprintln!(
        "{} ok, {} enqueued, {} skipped, {} rejected, {} failed in {:.1} s",
        count(|s| matches!(s, UploadStatus::Done { .. })),
        count(|s| matches!(s, UploadStatus::Enqueued { .. })),
        count(|s| matches!(s, UploadStatus::Skipped { .. })),
        count(|s| matches!(s, UploadStatus::Rejected(_))),
        count(|s| matches!(s, UploadStatus::Failed { .. })),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn emit(args: &UploadArgs, o: &UploadOutcome, progress: &ProgressBar) {
    if args.json {
        let line = outcome_json(o).to_string();
        progress.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        });
    }
    progress.inc(1);
}

fn print_table(outcomes: &[UploadOutcome]) {
    let rows: Vec<(String, String, String)> = outcomes
        .iter()
        .map(|o| {
            let (s, d) = table_row(o);
            (s, o.input.display().to_string(), d)
        })
        .collect();
    let w_status = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(6);
    let w_input = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<w_status$}  {:<w_input$}  DETAIL",
        "STATUS", "INPUT"
    );
    for (s, i, d) in rows {
        let _ = writeln!(out, "{s:<w_status$}  {i:<w_input$}  {d}");
    }
}
