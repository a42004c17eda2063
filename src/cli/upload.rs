//! `mindee-prep upload`: prepare files on rayon while uploading them with bounded concurrency.
//!
//! A bounded channel sits between the two: preparation blocks when uploads fall behind, so
//! memory stays flat however many files there are. Each result is written atomically to
//! `RESULTS_DIR/<stem>.json`; files whose result exists are skipped unless `--force`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mindee_prep::upload::{Client, EnqueueParams, PollingOptions, Product, Source};
use mindee_prep::{Error, PrepareOptions, Prepared};
use rayon::prelude::*;
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

/// What happened to one input.
#[derive(Debug)]
enum Status {
    Ok {
        job_id: String,
        output: PathBuf,
    },
    Skipped {
        output: PathBuf,
    },
    Enqueued {
        job_id: String,
    },
    Rejected(Error),
    Failed {
        job_id: Option<String>,
        error: Error,
    },
}

#[derive(Debug)]
struct Outcome {
    index: usize,
    input: PathBuf,
    status: Status,
    millis: u128,
}

impl Outcome {
    fn failed(&self) -> bool {
        matches!(self.status, Status::Rejected(_) | Status::Failed { .. })
    }

    fn to_json(&self) -> Value {
        let input = self.input.display().to_string();
        let err = |e: &Error| json!({"kind": e.kind().as_str(), "message": e.to_string()});
        match &self.status {
            Status::Ok { job_id, output } => json!({
                "input": input, "status": "ok", "job_id": job_id,
                "output": output.display().to_string(), "millis": self.millis,
            }),
            Status::Skipped { output } => json!({
                "input": input, "status": "skipped", "output": output.display().to_string(),
            }),
            Status::Enqueued { job_id } => json!({
                "input": input, "status": "enqueued", "job_id": job_id, "millis": self.millis,
            }),
            Status::Rejected(e) => json!({"input": input, "status": "rejected", "error": err(e)}),
            Status::Failed { job_id, error } => json!({
                "input": input, "status": "failed", "job_id": job_id, "error": err(error),
                "millis": self.millis,
            }),
        }
    }

    fn table_row(&self) -> (String, String) {
        match &self.status {
            Status::Ok { output, .. } => ("ok".into(), output.display().to_string()),
            Status::Skipped { output } => (
                "skipped".into(),
                format!("{} exists (--force redoes it)", output.display()),
            ),
            Status::Enqueued { job_id } => ("enqueued".into(), format!("job {job_id}")),
            Status::Rejected(e) => ("rejected".into(), format!("{}: {e}", e.kind())),
            Status::Failed { job_id, error } => (
                "failed".into(),
                match job_id {
                    Some(j) => format!("{}: {error} (job {j})", error.kind()),
                    None => format!("{}: {error}", error.kind()),
                },
            ),
        }
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
    let mut params = EnqueueParams::new(args.model_id.clone()).product(args.product.into());
    if let Some(a) = &args.alias {
        params = params.alias(a.clone());
    }
    for id in &args.webhook_ids {
        params = params.webhook_id(id.clone());
    }
    // Before any work: a missing key or a refused base URL stops everything.
    let client = Client::from_env()?;

    let started = Instant::now();
    let files = collect_inputs(&args.inputs);
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut todo: Vec<(usize, PathBuf, PathBuf)> = Vec::new();
    let mut taken: HashMap<PathBuf, PathBuf> = HashMap::new();
    for (index, found) in files.into_iter().enumerate() {
        let path = match found {
            Ok(p) => p,
            Err((p, e)) => {
                outcomes.push(Outcome {
                    index,
                    input: p,
                    status: Status::Rejected(e),
                    millis: 0,
                });
                continue;
            }
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_os_string())
            .unwrap_or_else(|| "document".into());
        let mut out = args.results_dir.join(stem);
        out.set_extension("json");
        if let Some(first) = taken.get(&out) {
            // Never let two inputs overwrite each other's result.
            let error = Error::Config(format!(
                "its result {} would overwrite the one of {}; rename one of them",
                out.display(),
                first.display()
            ));
            outcomes.push(Outcome {
                index,
                input: path,
                status: Status::Failed {
                    job_id: None,
                    error,
                },
                millis: 0,
            });
            continue;
        }
        taken.insert(out.clone(), path.clone());
        if !args.force && out.exists() {
            outcomes.push(Outcome {
                index,
                input: path,
                status: Status::Skipped { output: out },
                millis: 0,
            });
            continue;
        }
        todo.push((index, path, out));
    }
    if !args.no_wait && !todo.is_empty() {
        std::fs::create_dir_all(&args.results_dir).map_err(|e| Error::Io {
            context: args.results_dir.display().to_string(),
            source: e,
        })?;
    }

    let total = (outcomes.len() + todo.len()) as u64;
    let progress = if std::io::stderr().is_terminal() && !todo.is_empty() {
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            pb.set_style(style);
        }
        pb.set_position(outcomes.len() as u64);
        pb
    } else {
        ProgressBar::hidden()
    };

    for o in &outcomes {
        emit(&args, o, &progress);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            context: "starting the async runtime".into(),
            source: e,
        })?;
    let job = Job {
        client,
        params: Arc::new(params),
        polling,
        no_wait: args.no_wait,
    };
    let done = runtime.block_on(pipeline(job, todo, args.concurrency as usize, |o| {
        emit(&args, o, &progress)
    }));
    progress.finish_and_clear();
    outcomes.extend(done);
    outcomes.sort_by_key(|o| o.index);

    if !args.json {
        print_table(&outcomes);
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let count = |f: fn(&Status) -> bool| outcomes.iter().filter(|o| f(&o.status)).count();
    eprintln!(
        "{} ok, {} enqueued, {} skipped, {} rejected, {} failed in {:.1} s",
        count(|s| matches!(s, Status::Ok { .. })),
        count(|s| matches!(s, Status::Enqueued { .. })),
        count(|s| matches!(s, Status::Skipped { .. })),
        count(|s| matches!(s, Status::Rejected(_))),
        count(|s| matches!(s, Status::Failed { .. })),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn emit(args: &UploadArgs, o: &Outcome, progress: &ProgressBar) {
    if args.json {
        let line = o.to_json().to_string();
        progress.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        });
    }
    progress.inc(1);
}

fn print_table(outcomes: &[Outcome]) {
    let rows: Vec<(String, String, String)> = outcomes
        .iter()
        .map(|o| {
            let (s, d) = o.table_row();
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

/// Files to send, in a stable order: directories are walked (sorted), missing paths reported.
fn collect_inputs(inputs: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, Error)>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            for entry in walkdir::WalkDir::new(input).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => out.push(Ok(e.into_path())),
                    Ok(_) => {}
                    Err(e) => {
                        let p = e
                            .path()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| input.clone());
                        let source = e
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("cannot walk"));
                        out.push(Err((
                            p.clone(),
                            Error::Io {
                                context: p.display().to_string(),
                                source,
                            },
                        )));
                    }
                }
            }
        } else if input.is_file() {
            out.push(Ok(input.clone()));
        } else {
            let source =
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
            out.push(Err((
                input.clone(),
                Error::Io {
                    context: input.display().to_string(),
                    source,
                },
            )));
        }
    }
    out
}

struct Job {
    client: Client,
    params: Arc<EnqueueParams>,
    polling: PollingOptions,
    no_wait: bool,
}

/// Prepares on rayon (a plain thread drives `par_iter`) and uploads on tokio, with a bounded
/// channel in between and at most `concurrency` uploads in flight.
async fn pipeline(
    job: Job,
    todo: Vec<(usize, PathBuf, PathBuf)>,
    concurrency: usize,
    mut on_done: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<(usize, PathBuf, PathBuf, Result<Prepared, Error>, Instant)>(
            concurrency,
        );
    let preparer = std::thread::spawn(move || {
        let opts = PrepareOptions::default();
        todo.into_par_iter()
            .for_each_with(tx, |tx, (index, path, out)| {
                let t0 = Instant::now();
                let prepared = mindee_prep::prepare_path(&path, &opts);
                // A closed channel means the uploader stopped; nothing left to do.
                let _ = tx.blocking_send((index, path, out, prepared, t0));
            });
    });

    let job = Arc::new(job);
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = tokio::task::JoinSet::new();
    let mut outcomes = Vec::new();
    let mut receiving = true;
    while receiving || !running.is_empty() {
        tokio::select! {
            Some(joined) = running.join_next(), if !running.is_empty() => {
                if let Ok(o) = joined {
                    on_done(&o);
                    outcomes.push(o);
                }
            }
            item = rx.recv(), if receiving => {
                let Some((index, input, out, prepared, t0)) = item else {
                    receiving = false;
                    continue;
                };
                let prepared = match prepared {
                    Ok(p) => p,
                    Err(e) => {
                        // Refused by the pipeline: reported, never sent.
                        let o = Outcome { index, input, status: Status::Rejected(e), millis: t0.elapsed().as_millis() };
                        on_done(&o);
                        outcomes.push(o);
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let job = job.clone();
                running.spawn(async move {
                    let status = upload_one(&job, prepared, &input, &out).await;
                    drop(permit);
                    Outcome { index, input, status, millis: t0.elapsed().as_millis() }
                });
            }
        }
    }
    let _ = preparer.join();
    outcomes
}

async fn upload_one(job: &Job, prepared: Prepared, input: &Path, out: &Path) -> Status {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    let source = Source::prepared(prepared, &name);
    let enqueued = match job.client.enqueue(&source, &job.params).await {
        Ok(j) => j,
        Err(error) => {
            return Status::Failed {
                job_id: None,
                error,
            }
        }
    };
    drop(source);
    if job.no_wait {
        return Status::Enqueued {
            job_id: enqueued.id,
        };
    }
    let result = job
        .client
        .wait_for_result(&enqueued.id, job.params.get_product(), &job.polling)
        .await;
    let result = match result {
        Ok(r) => r,
        Err(error) => {
            return Status::Failed {
                job_id: Some(enqueued.id),
                error,
            }
        }
    };
    let out_owned = out.to_path_buf();
    let raw = result.raw().clone();
    let written = tokio::task::spawn_blocking(move || write_atomic(&out_owned, &raw)).await;
    match written {
        Ok(Ok(())) => Status::Ok {
            job_id: enqueued.id,
            output: out.to_path_buf(),
        },
        Ok(Err(error)) => Status::Failed {
            job_id: Some(enqueued.id),
            error,
        },
        Err(e) => Status::Failed {
            job_id: Some(enqueued.id),
            error: Error::Io {
                context: out.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            },
        },
    }
}

/// Writes to a temporary file in the same directory, then renames: a reader never sees half a
/// result, and a crash leaves no file that would be skipped next time.
fn write_atomic(path: &Path, value: &Value) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Io {
        context: path.display().to_string(),
        source: e,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".mindee-result")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| io(std::io::Error::other(e)))?;
    bytes.push(b'\n');
    tmp.write_all(&bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
