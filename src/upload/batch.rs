//! Many files at once, with a [job journal](super::journal): prepare on rayon while uploading
//! with bounded concurrency, and never lose a result nor bill a file twice without saying so.
//!
//! * Every input gets its own result, `RESULTS_DIR/<name>.json`, named once and kept in the
//!   journal: `scan` for a stem no other input has, else `scan.pdf` (the file name), then
//!   `<folder>-scan.pdf`, then `scan-<hash>`. Identical inputs (same bytes, model and options)
//!   share one row: one job, one result.
//! * A row with a job ID is polled, never sent again; only rows without one (never sent, or
//!   refused before a job existed) are enqueued. A request whose outcome was unknown (crash,
//!   dropped connection, 500) makes the next one a *possible duplicate*, marked in the journal
//!   and in the outcome.
//! * A bounded channel sits between preparation and upload: memory stays flat however many
//!   files there are. Files the pipeline refuses are reported and never sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rayon::prelude::*;

use super::journal::{self, Access, Entry, FileKey, Journal, State};
use super::model::{InferenceResponse, JobStatus};
use super::{Client, EnqueueEvent, EnqueueParams, PollingOptions, Product, Response, Source};
use crate::error::Error;
use crate::options::PrepareOptions;
use crate::output::write_replacing;

/// One input of a batch: a local file, or an `https://` URL the API fetches itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    /// A file (prepared before sending).
    Path(PathBuf),
    /// A URL, sent as the `url` field, never downloaded by us.
    Url(String),
}

impl Input {
    /// `https://…` is a URL, anything else a path. `http://` is refused: the API only fetches
    /// https.
    ///
    /// ```
    /// use mindee_prep::upload::batch::Input;
    /// assert!(matches!(Input::parse("https://x.example/a.pdf").unwrap(), Input::Url(_)));
    /// assert!(matches!(Input::parse("scans/a.pdf").unwrap(), Input::Path(_)));
    /// assert!(Input::parse("http://x.example/a.pdf").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Input, Error> {
        let lower = s.get(..8).unwrap_or("").to_ascii_lowercase();
        if lower.starts_with("https://") {
            Source::url(s)?;
            Ok(Input::Url(s.to_string()))
        } else if lower.starts_with("http://") {
            Err(Error::Config(format!(
                "{s}: the API only fetches https:// URLs (and we never download them ourselves)"
            )))
        } else {
            Ok(Input::Path(PathBuf::from(s)))
        }
    }

    /// As given.
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Url(u) => u.clone(),
        }
    }

    /// The file name: the path's, or the URL path's last segment.
    fn file_name(&self) -> String {
        let name = match self {
            Input::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Input::Url(u) => u
                .split(['?', '#'])
                .next()
                .and_then(|p| p.trim_end_matches('/').rsplit('/').next())
                .unwrap_or_default()
                .to_string(),
        };
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_control() || "/\\:*?\"<>|".contains(c) {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        if safe.is_empty() || safe.starts_with('.') {
            format!("document{safe}")
        } else {
            safe
        }
    }

    fn stem(&self) -> String {
        let name = self.file_name();
        match name.rfind('.') {
            Some(i) if i > 0 => name[..i].to_string(),
            _ => name,
        }
    }

    fn parent_name(&self) -> Option<String> {
        match self {
            Input::Path(p) => p
                .parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            Input::Url(u) => reqwest::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned)),
        }
    }
}

/// How to run a batch upload. Every field documents its default.
///
/// ```
/// use mindee_prep::upload::{batch::UploadBatch, EnqueueParams};
/// let batch = UploadBatch::new(EnqueueParams::new("0199a0b4-0000-0000-0000-000000000000"), "results");
/// assert_eq!((batch.concurrency, batch.enqueue_retries), (4, 3));
/// assert!(batch.wait && !batch.force && batch.journal.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct UploadBatch {
    /// Model, product, alias, webhooks, extraction options: sent with every file.
    pub params: EnqueueParams,
    /// How each file is prepared before it is sent. Default: `PrepareOptions::default()`.
    pub prepare: PrepareOptions,
    /// Polling of each job. Default: the SDKs' (2 s, then every 1.5 s, 80 polls).
    pub polling: PollingOptions,
    /// Where results go, as `<name>.json`.
    pub results_dir: PathBuf,
    /// The journal. Default (`None`): `RESULTS_DIR/.mindee-prep/journal.sqlite`.
    pub journal: Option<PathBuf>,
    /// Uploads in flight at once. Default: `4`.
    pub concurrency: usize,
    /// Send again files that already have a job or a result (a new bill). Default: `false`.
    pub force: bool,
    /// Poll for each result (`true`), or stop once the job is enqueued. Default: `true`.
    pub wait: bool,
    /// Enqueue retries after a failure whose outcome is unknown (500, 502, 504, dropped
    /// connection, timeout): each may create a second job, and the file is then marked
    /// `possible_duplicate`. `0` sends each file at most once per run. Default: `3`.
    pub enqueue_retries: u32,
}

impl UploadBatch {
    /// A batch with the defaults above.
    pub fn new(params: EnqueueParams, results_dir: impl Into<PathBuf>) -> Self {
        UploadBatch {
            params,
            prepare: PrepareOptions::default(),
            polling: PollingOptions::default(),
            results_dir: results_dir.into(),
            journal: None,
            concurrency: 4,
            force: false,
            wait: true,
            enqueue_retries: 3,
        }
    }

    /// The journal's path.
    pub fn journal_path(&self) -> PathBuf {
        self.journal
            .clone()
            .unwrap_or_else(|| journal::default_path(&self.results_dir))
    }
}

/// What happened to one input.
#[derive(Debug)]
#[non_exhaustive]
pub enum UploadStatus {
    /// Processed; the result was written to `output`.
    Done {
        /// The API's job id.
        job_id: String,
        /// Where the result JSON is.
        output: PathBuf,
    },
    /// The result was already on disk (and `force` was off): nothing was sent.
    Skipped {
        /// The existing result.
        output: PathBuf,
    },
    /// Enqueued without waiting (`wait` off); `collect` or the webhook receiver finishes it.
    Enqueued {
        /// The API's job id.
        job_id: String,
    },
    /// The same bytes, model and options as another input of the batch: one job, one result.
    SameAs {
        /// That input.
        input: String,
    },
    /// `collect` only: no job exists for it yet; `upload` sends it.
    NotSent {
        /// Its state in the journal.
        state: State,
    },
    /// Refused by the pipeline: never sent.
    Rejected(Error),
    /// Sent, but the upload, the job or writing the result failed.
    Failed {
        /// The job id, when a job was created (a rerun polls it instead of sending again).
        job_id: Option<String>,
        /// What went wrong.
        error: Error,
    },
}

/// One input's outcome.
#[derive(Debug)]
pub struct UploadOutcome {
    /// Position of the input in the batch.
    pub index: usize,
    /// The input, as given (a path or a URL).
    pub input: String,
    /// What happened.
    pub status: UploadStatus,
    /// Where its result is or will be (`RESULTS_DIR/<name>.json`).
    pub result: Option<PathBuf>,
    /// The API may hold two jobs for it (see [`UploadBatch::enqueue_retries`]).
    pub possible_duplicate: bool,
    /// Enqueue requests sent for it, over all runs.
    pub attempts: u32,
    /// Wall time from the start of its preparation, in milliseconds.
    pub millis: u128,
}

impl UploadOutcome {
    /// Rejected, failed or not sent.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            UploadStatus::Rejected(_) | UploadStatus::Failed { .. } | UploadStatus::NotSent { .. }
        )
    }

    fn new(index: usize, input: String, status: UploadStatus) -> Self {
        UploadOutcome {
            index,
            input,
            status,
            result: None,
            possible_duplicate: false,
            attempts: 0,
            millis: 0,
        }
    }
}

type Shared = Arc<Mutex<Journal>>;

fn lock(j: &Shared) -> MutexGuard<'_, Journal> {
    j.lock().unwrap_or_else(|p| p.into_inner())
}

/// Result names to try for `inputs[i]`, best first (see the module documentation).
fn name_candidates(inputs: &[Input]) -> Vec<Vec<String>> {
    let mut stems: HashMap<String, usize> = HashMap::new();
    for i in inputs {
        *stems.entry(i.stem().to_lowercase()).or_default() += 1;
    }
    inputs
        .iter()
        .map(|i| {
            let stem = i.stem();
            let mut names = Vec::new();
            if stems[&stem.to_lowercase()] == 1 {
                names.push(stem.clone());
            }
            let file = i.file_name();
            if file != stem {
                names.push(file.clone());
            }
            if let Some(parent) = i.parent_name().filter(|p| !p.is_empty() && p != ".") {
                names.push(format!("{parent}-{file}"));
            }
            names.push(stem);
            names
        })
        .collect()
}

/// The bytes a row is keyed on: the file's, or the URL's.
fn content_key(
    input: &Input,
    params: &EnqueueParams,
    prepare: &PrepareOptions,
) -> Result<FileKey, Error> {
    match input {
        Input::Path(p) => {
            let bytes = std::fs::read(p).map_err(|e| Error::io(p.display().to_string(), e))?;
            Ok(FileKey::new(&bytes, params, prepare.pdf_pages.as_ref()))
        }
        Input::Url(u) => Ok(FileKey::new(u.as_bytes(), params, None)),
    }
}

/// What a row needs.
enum Work {
    /// Prepare (files) and enqueue, then poll unless `wait` is off.
    Send,
    /// Poll its job and write the result.
    Poll(String),
}

/// Prepares and uploads `inputs`, calling `on_done` as each one finishes; returns every outcome
/// in input order.
///
/// Errors (nothing sent): the journal is damaged or held by another run, or the results folder
/// cannot be created.
pub async fn upload_files(
    client: &Client,
    inputs: Vec<Input>,
    batch: &UploadBatch,
    mut on_done: impl FnMut(&UploadOutcome),
) -> Result<Vec<UploadOutcome>, Error> {
    std::fs::create_dir_all(&batch.results_dir)
        .map_err(|e| Error::io(batch.results_dir.display().to_string(), e))?;
    let mut journal = Journal::open(&batch.journal_path(), Access::Run)?;

    // Hash every input on all cores (the journal is keyed on content).
    let keys: Vec<Result<FileKey, Error>> = {
        let inputs = inputs.clone();
        let params = batch.params.clone();
        let prepare = batch.prepare.clone();
        tokio::task::spawn_blocking(move || {
            inputs
                .par_iter()
                .map(|i| content_key(i, &params, &prepare))
                .collect()
        })
        .await
        .map_err(|e| Error::Config(format!("hashing the inputs failed: {e}")))?
    };
    let names = name_candidates(&inputs);

    let mut outcomes = Vec::new();
    let mut todo: Vec<(usize, Input, Entry, Work)> = Vec::new();
    let mut first_of_key: HashMap<String, usize> = HashMap::new();
    for (index, (input, key)) in inputs.into_iter().zip(keys).enumerate() {
        let shown = input.display();
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                let o = UploadOutcome::new(index, shown, UploadStatus::Rejected(e));
                on_done(&o);
                outcomes.push(o);
                continue;
            }
        };
        let entry = journal.entry_for(&key, &shown, &names[index], &batch.results_dir)?;
        let output = entry.result_path(&batch.results_dir);
        if let Some(&first) = first_of_key.get(&key.key) {
            let first_input = todo
                .iter()
                .map(|t| (t.0, t.1.display()))
                .chain(outcomes.iter().map(|o| (o.index, o.input.clone())))
                .find(|(i, _)| *i == first)
                .map(|(_, s)| s)
                .unwrap_or_default();
            let mut o =
                UploadOutcome::new(index, shown, UploadStatus::SameAs { input: first_input });
            o.result = Some(output);
            on_done(&o);
            outcomes.push(o);
            continue;
        }
        first_of_key.insert(key.key.clone(), index);
        let entry = if batch.force && (entry.job_id.is_some() || entry.state != State::New) {
            journal.reset(entry.id)?;
            journal.get(entry.id)?
        } else {
            entry
        };
        let work = match (&entry.job_id, entry.state) {
            (_, State::Done) if output.is_file() => {
                let mut o = UploadOutcome::new(
                    index,
                    shown,
                    UploadStatus::Skipped {
                        output: output.clone(),
                    },
                );
                o.result = Some(output);
                o.possible_duplicate = entry.possible_duplicate;
                o.attempts = entry.attempts;
                on_done(&o);
                outcomes.push(o);
                continue;
            }
            (Some(job), _) => Work::Poll(job.clone()),
            (None, _) => Work::Send,
        };
        todo.push((index, input, entry, work));
    }

    let runner = Arc::new(Runner {
        client: client.clone(),
        journal: Arc::new(Mutex::new(journal)),
        results_dir: batch.results_dir.clone(),
        polling: batch.polling,
        params: batch.params.clone(),
        wait: batch.wait,
        enqueue_retries: batch.enqueue_retries,
    });
    outcomes.extend(pipeline(runner, batch, todo, on_done).await);
    outcomes.sort_by_key(|o| o.index);
    Ok(outcomes)
}

/// Finishes every enqueued, unfinished job of a journal: polls it and writes its result (how
/// `--no-wait` and webhook batches end). Rows without a job are reported
/// [`UploadStatus::NotSent`]; nothing is ever enqueued here.
pub async fn collect(
    client: &Client,
    results_dir: &Path,
    journal_path: &Path,
    polling: PollingOptions,
    concurrency: usize,
    mut on_done: impl FnMut(&UploadOutcome),
) -> Result<Vec<UploadOutcome>, Error> {
    let journal = Journal::open(journal_path, Access::Run)?;
    std::fs::create_dir_all(results_dir)
        .map_err(|e| Error::io(results_dir.display().to_string(), e))?;
    let entries = journal.entries()?;
    let journal = Arc::new(Mutex::new(journal));
    let runner = Arc::new(Runner {
        client: client.clone(),
        journal,
        results_dir: results_dir.to_path_buf(),
        polling,
        params: EnqueueParams::default(),
        wait: true,
        enqueue_retries: 0,
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut running = tokio::task::JoinSet::new();
    let mut outcomes = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let output = entry.result_path(results_dir);
        let status = match (&entry.job_id, entry.state) {
            (_, State::Done) if output.is_file() => Some(UploadStatus::Skipped {
                output: output.clone(),
            }),
            (None, state) => Some(UploadStatus::NotSent { state }),
            (Some(_), _) => None,
        };
        if let Some(status) = status {
            let mut o = UploadOutcome::new(index, entry.input.clone(), status);
            o.result = Some(output);
            o.possible_duplicate = entry.possible_duplicate;
            o.attempts = entry.attempts;
            on_done(&o);
            outcomes.push(o);
            continue;
        }
        let runner = runner.clone();
        let permits = permits.clone();
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let start = Instant::now();
            let job_id = entry.job_id.clone().unwrap_or_default();
            let status = runner
                .poll_and_write(&entry, &job_id, entry.product())
                .await;
            runner.outcome(index, entry.input.clone(), &entry, status, start)
        });
    }
    while let Some(joined) = running.join_next().await {
        if let Ok(o) = joined {
            on_done(&o);
            outcomes.push(o);
        }
    }
    outcomes.sort_by_key(|o| o.index);
    Ok(outcomes)
}

type PreparedItem = (usize, Input, Entry, Result<Source, Error>, Instant);

/// Prepares on worker threads under the memory budget (`batch::for_each_file`) and uploads on
/// tokio, with a bounded channel in between and at most `concurrency` uploads in flight. Rows
/// that only need polling skip preparation.
async fn pipeline(
    runner: Arc<Runner>,
    batch: &UploadBatch,
    todo: Vec<(usize, Input, Entry, Work)>,
    mut on_done: impl FnMut(&UploadOutcome),
) -> Vec<UploadOutcome> {
    let concurrency = batch.concurrency.max(1);
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = tokio::task::JoinSet::new();
    let mut to_send = Vec::new();
    for (index, input, entry, work) in todo {
        match work {
            Work::Send => to_send.push((index, input, entry)),
            Work::Poll(job_id) => {
                let runner = runner.clone();
                let permits = permits.clone();
                running.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let start = Instant::now();
                    let status = if runner.wait {
                        runner
                            .poll_and_write(&entry, &job_id, runner.params.get_product())
                            .await
                    } else {
                        UploadStatus::Enqueued { job_id }
                    };
                    runner.outcome(index, input.display(), &entry, status, start)
                });
            }
        }
    }

    let (tx, mut rx) = tokio::sync::mpsc::channel::<PreparedItem>(concurrency);
    let options = batch.prepare.clone();
    let preparer = std::thread::spawn(move || {
        // Under the batch's memory budget, like `prepare_batch`.
        crate::batch::for_each_file(&to_send, &options, |_, (index, input, entry), admission| {
            let start = Instant::now();
            let source = match input {
                Input::Path(p) => crate::batch::prepare_path_admitted(p, &options, admission)
                    .map(|prepared| Source::prepared(prepared, &input.file_name())),
                Input::Url(u) => Source::url(u.clone()),
            };
            // A closed channel means the uploader stopped; nothing left to do.
            let _ = tx.blocking_send((*index, input.clone(), entry.clone(), source, start));
        });
    });

    let mut outcomes = Vec::new();
    let mut receiving = true;
    while receiving || !running.is_empty() {
        tokio::select! {
            Some(joined) = running.join_next(), if !running.is_empty() => {
                if let Ok(outcome) = joined {
                    on_done(&outcome);
                    outcomes.push(outcome);
                }
            }
            item = rx.recv(), if receiving => {
                let Some((index, input, entry, source, start)) = item else {
                    receiving = false;
                    continue;
                };
                let source = match source {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = lock(&runner.journal).set_refused(entry.id, &e);
                        let o = runner.outcome(index, input.display(), &entry, UploadStatus::Rejected(e), start);
                        on_done(&o);
                        outcomes.push(o);
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let runner = runner.clone();
                running.spawn(async move {
                    let status = runner.send(&entry, source).await;
                    drop(permit);
                    runner.outcome(index, input.display(), &entry, status, start)
                });
            }
        }
    }
    let _ = preparer.join();
    outcomes
}

/// Sends and polls rows, writing each step to the journal.
struct Runner {
    client: Client,
    journal: Shared,
    results_dir: PathBuf,
    polling: PollingOptions,
    params: EnqueueParams,
    wait: bool,
    enqueue_retries: u32,
}

/// Worth polling again: the job exists and the failure was on the way, not at the API.
fn transient(e: &Error) -> bool {
    match e {
        Error::Network(_) | Error::Timeout(_) | Error::RateLimited { .. } => true,
        Error::Api(p) => p.status >= 500 || p.status == 429,
        _ => false,
    }
}

impl Runner {
    fn outcome(
        &self,
        index: usize,
        input: String,
        entry: &Entry,
        status: UploadStatus,
        start: Instant,
    ) -> UploadOutcome {
        let now = lock(&self.journal)
            .get(entry.id)
            .unwrap_or_else(|_| entry.clone());
        UploadOutcome {
            index,
            input,
            status,
            result: Some(entry.result_path(&self.results_dir)),
            possible_duplicate: now.possible_duplicate,
            attempts: now.attempts,
            millis: start.elapsed().as_millis(),
        }
    }

    /// Enqueues (journaling every request), then polls unless `wait` is off.
    async fn send(&self, entry: &Entry, source: Source) -> UploadStatus {
        if let Err(error) = lock(&self.journal).set_prepared(entry.id) {
            return UploadStatus::Failed {
                job_id: None,
                error,
            };
        }
        let journal = self.journal.clone();
        let id = entry.id;
        let mut observer = move |event: EnqueueEvent| -> Result<(), Error> {
            let j = lock(&journal);
            match event {
                EnqueueEvent::Sending { .. } => j.begin_attempt(id),
                EnqueueEvent::CreatedNothing => j.attempt_created_nothing(id),
                _ => Ok(()),
            }
        };
        let outcome = self
            .client
            .enqueue_observed(&source, &self.params, self.enqueue_retries, &mut observer)
            .await;
        drop(source);
        let maybe_enqueued = outcome.maybe_enqueued();
        let job = match outcome.job {
            Ok(job) => job,
            Err(error) => {
                let j = lock(&self.journal);
                let refused = matches!(&error, Error::Unauthorized { .. })
                    || matches!(&error, Error::Api(p) if (400..500).contains(&p.status) && p.status != 429);
                let _ = if refused && !maybe_enqueued {
                    j.set_refused(entry.id, &error)
                } else {
                    j.set_failed(entry.id, &error)
                };
                return UploadStatus::Failed {
                    job_id: None,
                    error,
                };
            }
        };
        let delivered = lock(&self.journal).set_enqueued(entry.id, &job.id);
        if let Ok(Some(delivery)) = delivered {
            // The webhook receiver got the result before we got the job ID.
            return self.adopt_delivery(entry, &job.id, delivery);
        }
        if !self.wait {
            return UploadStatus::Enqueued { job_id: job.id };
        }
        self.poll_and_write(entry, &job.id, self.params.get_product())
            .await
    }

    fn adopt_delivery(
        &self,
        entry: &Entry,
        job_id: &str,
        delivery: journal::Delivery,
    ) -> UploadStatus {
        let j = lock(&self.journal);
        if let Some(msg) = delivery.error {
            let error = Error::JobFailed(Box::new(crate::ApiProblem {
                status: 500,
                detail: Some(msg),
                ..Default::default()
            }));
            let _ = j.set_failed(entry.id, &error);
            return UploadStatus::Failed {
                job_id: Some(job_id.into()),
                error,
            };
        }
        let output = entry.result_path(&self.results_dir);
        if let Some(name) = delivery.file_name {
            if let Err(e) = std::fs::rename(self.results_dir.join(&name), &output) {
                let error = Error::io(output.display().to_string(), e);
                return UploadStatus::Failed {
                    job_id: Some(job_id.into()),
                    error,
                };
            }
        }
        match j.set_done(entry.id) {
            Ok(()) => UploadStatus::Done {
                job_id: job_id.into(),
                output,
            },
            Err(error) => UploadStatus::Failed {
                job_id: Some(job_id.into()),
                error,
            },
        }
    }

    /// Polls `job_id` until it is done and writes its result. Failures on the way (network,
    /// 429, 5xx) count as polls and polling goes on: the job exists, only its answer is late.
    async fn poll_and_write(&self, entry: &Entry, job_id: &str, product: Product) -> UploadStatus {
        let failed = |error: Error| {
            let _ = lock(&self.journal).set_failed(entry.id, &error);
            UploadStatus::Failed {
                job_id: Some(job_id.to_string()),
                error,
            }
        };
        let result = match self.await_result(entry, job_id, product).await {
            Ok(r) => r,
            Err(e) => return failed(e),
        };
        let output = entry.result_path(&self.results_dir);
        let path = output.clone();
        let written = tokio::task::spawn_blocking(move || write_result(&path, &result))
            .await
            .unwrap_or_else(|e| {
                Err(Error::io(
                    output.display().to_string(),
                    std::io::Error::other(e),
                ))
            });
        if let Err(e) = written {
            return failed(e);
        }
        match lock(&self.journal).set_done(entry.id) {
            Ok(()) => UploadStatus::Done {
                job_id: job_id.to_string(),
                output,
            },
            Err(error) => UploadStatus::Failed {
                job_id: Some(job_id.to_string()),
                error,
            },
        }
    }

    async fn await_result(
        &self,
        entry: &Entry,
        job_id: &str,
        product: Product,
    ) -> Result<Response<InferenceResponse>, Error> {
        let polling = &self.polling;
        tokio::time::sleep(polling.initial_delay).await;
        let mut last_error = None;
        for n in 0..polling.max_polls {
            if n > 0 {
                tokio::time::sleep(polling.interval).await;
            }
            let job = match self.client.get_job(job_id).await {
                Ok(job) => job,
                Err(e) if transient(&e) => {
                    last_error = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if job.status == JobStatus::Failed || job.error.is_some() {
                return Err(super::client::job_failed(&job));
            }
            if job.status == JobStatus::Processed {
                match self.client.result_of(&job, product).await {
                    Ok(r) => return Ok(r),
                    Err(e) if transient(&e) => {
                        last_error = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let _ = lock(&self.journal).set_processing(entry.id);
        }
        let waited = polling.initial_delay + polling.interval * polling.max_polls.saturating_sub(1);
        Err(Error::Timeout(format!(
            "job {job_id} had no result after {} polls ({} s){}; `mindee-prep collect` or a rerun polls it again without sending the file",
            polling.max_polls,
            waited.as_secs(),
            last_error.map(|e| format!(", last error: {e}")).unwrap_or_default()
        )))
    }
}

/// The result as written: the API's JSON, pretty-printed, with a final newline. The webhook
/// receiver writes the same bytes for the same result.
pub fn result_bytes(raw: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(raw).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn write_result(path: &Path, result: &Response<InferenceResponse>) -> Result<(), Error> {
    write_replacing(path, &result_bytes(result.raw()))
}
