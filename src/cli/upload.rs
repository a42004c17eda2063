//! `mindee-prep upload`: arguments and output over [`mindee_prep::upload::batch`], which
//! prepares on rayon while uploading with bounded concurrency, through the job journal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mindee_prep::upload::batch::{upload_files, Input, UploadBatch, UploadOutcome, UploadStatus};
use mindee_prep::upload::{
    Client, ClientBuilder, EnqueueParams, PollingOptions, Product, RateLimits,
};
use mindee_prep::{expand_inputs, Error};
use serde_json::{json, Value};

/// Options of `mindee-prep upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The model to send to (a UUID from the Mindee platform; see `search-models`).
    #[arg(long, value_name = "UUID")]
    pub model_id: String,
    /// The kind of model.
    #[arg(long, value_enum, default_value_t = ProductArg::Extraction)]
    pub product: ProductArg,
    /// A free-text alias sent with every file.
    #[arg(long, value_name = "A")]
    pub alias: Option<String>,
    /// Deliver results to this webhook too (repeatable); `webhook-server` receives them.
    #[arg(long = "webhook-id", value_name = "ID")]
    pub webhook_ids: Vec<String>,
    #[command(flatten)]
    pub extraction: ExtractionFlags,
    /// Stop once each file is enqueued; `collect` (or `webhook-server`) finishes the batch.
    #[arg(long)]
    pub no_wait: bool,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Where results are written, as <name>.json (the name is in each JSON line).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "RESULTS_DIR",
        default_value = "results"
    )]
    pub results_dir: PathBuf,
    /// The job journal [default: RESULTS_DIR/.mindee-prep/journal.sqlite].
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Send again files that already have a job or a result (each is billed again).
    #[arg(long)]
    pub force: bool,
    /// Enqueue retries after a failure whose outcome is unknown (500, 502, 504, dropped
    /// connection, timeout). Each may create a second job: such files are marked
    /// "possible_duplicate". 0 sends each file at most once.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub enqueue_retries: u32,
    #[command(flatten)]
    pub pacing: PacingFlags,
    /// One JSON object per input on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub polling: PollingFlags,
    #[command(flatten)]
    pub prepare: super::prepare::PrepareFlags,
    /// Files, directories (recursed) or https:// URLs (sent as they are; the API fetches them).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
}

/// Extraction options, as the official SDK's command line has them. Booleans are sent only
/// when given, so the model's defaults apply otherwise.
#[derive(Debug, Args)]
pub struct ExtractionFlags {
    /// Retrieval-augmented generation (extraction; `--rag=false` turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub rag: Option<bool>,
    /// Full text of each page in the result (extraction).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub raw_text: Option<bool>,
    /// Polygons of the fields (extraction).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub polygon: Option<bool>,
    /// Confidence of the fields (extraction).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub confidence: Option<bool>,
    /// Extra context for the model (extraction).
    #[arg(long, value_name = "TEXT")]
    pub text_context: Option<String>,
    /// A JSON data schema file, such as {"replace":{"fields":[…]}} (extraction).
    #[arg(long, value_name = "FILE")]
    pub data_schema: Option<PathBuf>,
}

/// Client-side pacing under the API's limits.
#[derive(Debug, Args)]
pub struct PacingFlags {
    /// Enqueue requests per sliding minute, retries included (the API allows 200).
    #[arg(long, default_value_t = 200, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_enqueues_per_minute: u32,
    /// GET requests (job polls and results) per sliding minute (the API allows 1,200).
    #[arg(long, default_value_t = 1200, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_polls_per_minute: u32,
}

impl PacingFlags {
    pub fn limits(&self) -> RateLimits {
        RateLimits {
            enqueues: self.max_enqueues_per_minute,
            polls: self.max_polls_per_minute,
            ..RateLimits::default()
        }
    }
}

/// How jobs are polled.
#[derive(Debug, Args)]
pub struct PollingFlags {
    /// Seconds before the first poll of a job (at least 1).
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub initial_delay: f64,
    /// Seconds between polls (at least 1).
    #[arg(long, default_value_t = 1.5, value_name = "SECS")]
    pub poll_interval: f64,
    /// Polls before giving up on a job for this run (its job ID stays in the journal).
    #[arg(long, default_value_t = 80, value_name = "N")]
    pub max_polls: u32,
}

impl PollingFlags {
    pub fn options(&self) -> Result<PollingOptions, Error> {
        let polling = PollingOptions {
            initial_delay: secs("--initial-delay", self.initial_delay)?,
            interval: secs("--poll-interval", self.poll_interval)?,
            max_polls: self.max_polls,
        };
        polling.validate()?;
        Ok(polling)
    }
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

/// One JSON line per input (shared with `collect`).
pub(crate) fn outcome_json(o: &UploadOutcome) -> Value {
    let err = |e: &Error| json!({"kind": e.kind().as_str(), "message": e.to_string()});
    let mut line = match &o.status {
        UploadStatus::Done { job_id, .. } => json!({"status": "ok", "job_id": job_id}),
        UploadStatus::Skipped { .. } => json!({"status": "skipped"}),
        UploadStatus::Enqueued { job_id } => json!({"status": "enqueued", "job_id": job_id}),
        UploadStatus::SameAs { input } => json!({"status": "same_as", "same_as": input}),
        UploadStatus::NotSent { state } => json!({"status": "not_sent", "state": state.as_str()}),
        UploadStatus::Rejected(e) => json!({"status": "rejected", "error": err(e)}),
        UploadStatus::Failed { job_id, error } => {
            json!({"status": "failed", "job_id": job_id, "error": err(error)})
        }
        _ => json!({"status": "unknown"}),
    };
    line["input"] = json!(o.input);
    if let Some(r) = &o.result {
        line["output"] = json!(r.display().to_string());
    }
    line["possible_duplicate"] = json!(o.possible_duplicate);
    line["attempts"] = json!(o.attempts);
    line["millis"] = json!(o.millis);
    line
}

fn table_row(o: &UploadOutcome) -> (String, String) {
    let dup = if o.possible_duplicate {
        " [possible duplicate]"
    } else {
        ""
    };
    let (status, detail) = match &o.status {
        UploadStatus::Done { output, .. } => ("ok".into(), output.display().to_string()),
        UploadStatus::Skipped { output } => (
            "skipped".into(),
            format!("{} exists (--force sends it again)", output.display()),
        ),
        UploadStatus::Enqueued { job_id } => ("enqueued".into(), format!("job {job_id}")),
        UploadStatus::SameAs { input } => ("same".into(), format!("same document as {input}")),
        UploadStatus::NotSent { state } => (
            "not sent".into(),
            format!("{state}: no job yet; `upload` sends it"),
        ),
        UploadStatus::Rejected(e) => ("rejected".into(), format!("{}: {e}", e.kind())),
        UploadStatus::Failed { job_id, error } => (
            "failed".into(),
            match job_id {
                Some(j) => format!("{}: {error} (job {j})", error.kind()),
                None => format!("{}: {error}", error.kind()),
            },
        ),
        _ => ("unknown".into(), String::new()),
    };
    (status, format!("{detail}{dup}"))
}

/// Runs the command; exit status 0 when every input was sent (or skipped), 1 when some failed,
/// 2 when nothing could start (configuration, damaged or busy journal).
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

/// The client from the environment, with the pacing flags.
pub(crate) fn client(pacing: &PacingFlags) -> Result<Client, Error> {
    ClientBuilder::from_env()?
        .rate_limits(pacing.limits())
        .build()
}

fn params(args: &UploadArgs) -> Result<EnqueueParams, Error> {
    let mut params = EnqueueParams::new(args.model_id.clone()).product(args.product.into());
    if let Some(a) = &args.alias {
        params = params.alias(a.clone());
    }
    for id in &args.webhook_ids {
        params = params.webhook_id(id.clone());
    }
    let x = &args.extraction;
    let extraction_only = [
        x.rag.is_some(),
        x.raw_text.is_some(),
        x.polygon.is_some(),
        x.confidence.is_some(),
        x.text_context.is_some(),
        x.data_schema.is_some(),
    ];
    if args.product != ProductArg::Extraction && extraction_only.iter().any(|b| *b) {
        return Err(Error::Config(
            "--rag, --raw-text, --polygon, --confidence, --text-context and --data-schema apply to --product extraction only".into(),
        ));
    }
    if let Some(v) = x.rag {
        params = params.rag(v);
    }
    if let Some(v) = x.raw_text {
        params = params.raw_text(v);
    }
    if let Some(v) = x.polygon {
        params = params.polygon(v);
    }
    if let Some(v) = x.confidence {
        params = params.confidence(v);
    }
    if let Some(t) = &x.text_context {
        params = params.text_context(t.clone());
    }
    if let Some(path) = &x.data_schema {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            context: path.display().to_string(),
            source: e,
        })?;
        serde_json::from_str::<Value>(&text).map_err(|e| {
            Error::Config(format!(
                "--data-schema {}: not valid JSON: {e}",
                path.display()
            ))
        })?;
        params = params.data_schema(text);
    }
    Ok(params)
}

/// Paths expanded (directories recursed), URLs kept, in the order given.
fn inputs(raw: &[String]) -> Result<Vec<Input>, Error> {
    let mut out = Vec::new();
    for item in raw {
        match Input::parse(item)? {
            Input::Path(p) => out.extend(expand_inputs(&[p])?.into_iter().map(Input::Path)),
            url => out.push(url),
        }
    }
    Ok(out)
}

fn run_inner(args: UploadArgs) -> Result<ExitCode, Error> {
    let polling = args.polling.options()?;
    let prepare = args.prepare.options();
    prepare.validate()?;
    let params = params(&args)?;
    // Before any work: a missing key or a refused base URL stops everything.
    let client = client(&args.pacing)?;
    let files = inputs(&args.inputs)?;

    let started = Instant::now();
    let progress = progress_bar(files.len());
    let batch = UploadBatch {
        polling,
        concurrency: args.concurrency as usize,
        force: args.force,
        wait: !args.no_wait,
        prepare,
        journal: args.journal.clone(),
        enqueue_retries: args.enqueue_retries,
        ..UploadBatch::new(params, &args.results_dir)
    };
    let runtime = runtime()?;
    let outcomes = runtime.block_on(upload_files(&client, files, &batch, |o| {
        emit(args.json, o, &progress)
    }))?;
    progress.finish_and_clear();
    Ok(finish(&outcomes, args.json, started))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            context: "starting the async runtime".into(),
            source: e,
        })
}

pub(crate) fn progress_bar(len: usize) -> ProgressBar {
    if std::io::stderr().is_terminal() && len > 0 {
        let pb = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            pb.set_style(style);
        }
        pb
    } else {
        ProgressBar::hidden()
    }
}

/// The table (unless `--json`), the summary on stderr, and the exit status.
pub(crate) fn finish(outcomes: &[UploadOutcome], json: bool, started: Instant) -> ExitCode {
    if !json {
        print_table(outcomes);
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let count = |f: fn(&UploadStatus) -> bool| outcomes.iter().filter(|o| f(&o.status)).count();
    let dups = outcomes.iter().filter(|o| o.possible_duplicate).count();
    eprintln!(
        "{} ok, {} enqueued, {} skipped, {} rejected, {} failed{}{} in {:.1} s",
        count(|s| matches!(s, UploadStatus::Done { .. } | UploadStatus::SameAs { .. })),
        count(|s| matches!(s, UploadStatus::Enqueued { .. })),
        count(|s| matches!(s, UploadStatus::Skipped { .. })),
        count(|s| matches!(s, UploadStatus::Rejected(_))),
        count(|s| matches!(s, UploadStatus::Failed { .. })),
        match count(|s| matches!(s, UploadStatus::NotSent { .. })) {
            0 => String::new(),
            n => format!(", {n} not sent"),
        },
        match dups {
            0 => String::new(),
            n => format!(" ({n} possible duplicates: see the journal)"),
        },
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

pub(crate) fn emit(json: bool, o: &UploadOutcome, progress: &ProgressBar) {
    if json {
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
            (s, o.input.clone(), d)
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
