//! Many files at once: prepare on rayon while uploading with bounded concurrency.
//!
//! A bounded channel sits between the two stages: preparation blocks when uploads fall behind,
//! so memory stays flat however many files there are. Each result is written atomically to
//! `RESULTS_DIR/<stem>.json`; files whose result exists are skipped unless `force` is set.
//! Files the pipeline refuses are reported and never sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use super::{Client, EnqueueParams, PollingOptions, Source};
use crate::error::Error;
use crate::options::PrepareOptions;
use crate::output::write_replacing;
use crate::prepare::Prepared;

/// How to run a batch upload. Every field documents its default.
///
/// ```
/// use mindee_prep::upload::{batch::UploadBatch, EnqueueParams};
/// let batch = UploadBatch::new(EnqueueParams::new("0199a0b4-0000-0000-0000-000000000000"), "results");
/// assert_eq!(batch.concurrency, 4);
/// assert!(batch.wait && !batch.force);
/// ```
#[derive(Debug, Clone)]
pub struct UploadBatch {
    /// Model, product, alias, webhooks: sent with every file.
    pub params: EnqueueParams,
    /// How each file is prepared before it is sent. Default: `PrepareOptions::default()`.
    pub prepare: PrepareOptions,
    /// Polling of each job. Default: the SDKs' (2 s, then every 1.5 s, 80 polls).
    pub polling: PollingOptions,
    /// Where results go, as `<stem>.json`.
    pub results_dir: PathBuf,
    /// Uploads in flight at once. Default: `4`.
    pub concurrency: usize,
    /// Redo files whose result already exists. Default: `false`.
    pub force: bool,
    /// Poll for each result (`true`), or stop once the job is enqueued. Default: `true`.
    pub wait: bool,
}

impl UploadBatch {
    /// A batch with the defaults above.
    pub fn new(params: EnqueueParams, results_dir: impl Into<PathBuf>) -> Self {
        UploadBatch {
            params,
            prepare: PrepareOptions::default(),
            polling: PollingOptions::default(),
            results_dir: results_dir.into(),
            concurrency: 4,
            force: false,
            wait: true,
        }
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
    /// A result already existed at `output` (and `force` was off).
    Skipped {
        /// The existing result.
        output: PathBuf,
    },
    /// Enqueued without waiting (`wait` off).
    Enqueued {
        /// The API's job id.
        job_id: String,
    },
    /// Refused by the pipeline: never sent.
    Rejected(Error),
    /// Sent, but the upload, the job or writing the result failed.
    Failed {
        /// The job id, when a job was created.
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
    /// The input path.
    pub input: PathBuf,
    /// What happened.
    pub status: UploadStatus,
    /// Wall time from the start of its preparation, in milliseconds.
    pub millis: u128,
}

impl UploadOutcome {
    /// Rejected or failed.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            UploadStatus::Rejected(_) | UploadStatus::Failed { .. }
        )
    }
}

/// Prepares and uploads `files`, calling `on_done` as each one finishes; returns every outcome
/// in input order. Results of two inputs never overwrite each other: the second one with the
/// same stem fails with a clear message instead.
pub async fn upload_files(
    client: &Client,
    files: Vec<PathBuf>,
    batch: &UploadBatch,
    mut on_done: impl FnMut(&UploadOutcome),
) -> Vec<UploadOutcome> {
    let mut outcomes = Vec::new();
    let mut todo = Vec::new();
    let mut taken: HashMap<PathBuf, PathBuf> = HashMap::new();
    for (index, input) in files.into_iter().enumerate() {
        let stem = input
            .file_stem()
            .map(|s| s.to_os_string())
            .unwrap_or_else(|| "document".into());
        let mut output = batch.results_dir.join(stem);
        output.set_extension("json");
        let status = if let Some(first) = taken.get(&output) {
            Some(UploadStatus::Failed {
                job_id: None,
                error: Error::Config(format!(
                    "its result {} would overwrite the one of {}; rename one of them",
                    output.display(),
                    first.display()
                )),
            })
        } else if !batch.force && output.exists() {
            Some(UploadStatus::Skipped {
                output: output.clone(),
            })
        } else {
            None
        };
        taken.entry(output.clone()).or_insert_with(|| input.clone());
        match status {
            Some(status) => {
                let outcome = UploadOutcome {
                    index,
                    input,
                    status,
                    millis: 0,
                };
                on_done(&outcome);
                outcomes.push(outcome);
            }
            None => todo.push((index, input, output)),
        }
    }
    if batch.wait && !todo.is_empty() {
        if let Err(e) = std::fs::create_dir_all(&batch.results_dir) {
            let error = Error::io(batch.results_dir.display().to_string(), e);
            for (index, input, _) in todo {
                let outcome = UploadOutcome {
                    index,
                    input,
                    status: UploadStatus::Failed {
                        job_id: None,
                        error: Error::Config(error.to_string()),
                    },
                    millis: 0,
                };
                on_done(&outcome);
                outcomes.push(outcome);
            }
            outcomes.sort_by_key(|o| o.index);
            return outcomes;
        }
    }
    outcomes.extend(pipeline(client.clone(), batch, todo, on_done).await);
    outcomes.sort_by_key(|o| o.index);
    outcomes
}

type PreparedItem = (usize, PathBuf, PathBuf, Result<Prepared, Error>, Instant);

/// Prepares on rayon (a plain thread drives `par_iter`) and uploads on tokio, with a bounded
/// channel in between and at most `concurrency` uploads in flight.
async fn pipeline(
    client: Client,
    batch: &UploadBatch,
    todo: Vec<(usize, PathBuf, PathBuf)>,
    mut on_done: impl FnMut(&UploadOutcome),
) -> Vec<UploadOutcome> {
    let concurrency = batch.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<PreparedItem>(concurrency);
    let options = batch.prepare.clone();
    let preparer = std::thread::spawn(move || {
        todo.into_par_iter()
            .for_each_with(tx, |tx, (index, path, out)| {
                let start = Instant::now();
                let prepared = crate::prepare_path(&path, &options);
                // A closed channel means the uploader stopped; nothing left to do.
                let _ = tx.blocking_send((index, path, out, prepared, start));
            });
    });

    let job = Arc::new(Job {
        client,
        params: batch.params.clone(),
        polling: batch.polling,
        wait: batch.wait,
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = tokio::task::JoinSet::new();
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
                let Some((index, input, out, prepared, start)) = item else {
                    receiving = false;
                    continue;
                };
                let prepared = match prepared {
                    Ok(p) => p,
                    Err(e) => {
                        let outcome = UploadOutcome {
                            index,
                            input,
                            status: UploadStatus::Rejected(e),
                            millis: start.elapsed().as_millis(),
                        };
                        on_done(&outcome);
                        outcomes.push(outcome);
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let job = job.clone();
                running.spawn(async move {
                    let status = job.upload_one(prepared, &input, &out).await;
                    drop(permit);
                    UploadOutcome { index, input, status, millis: start.elapsed().as_millis() }
                });
            }
        }
    }
    let _ = preparer.join();
    outcomes
}

struct Job {
    client: Client,
    params: EnqueueParams,
    polling: PollingOptions,
    wait: bool,
}

impl Job {
    async fn upload_one(&self, prepared: Prepared, input: &Path, out: &Path) -> UploadStatus {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "document".into());
        let source = Source::prepared(prepared, &name);
        let enqueued = match self.client.enqueue(&source, &self.params).await {
            Ok(j) => j,
            Err(error) => {
                return UploadStatus::Failed {
                    job_id: None,
                    error,
                }
            }
        };
        drop(source);
        if !self.wait {
            return UploadStatus::Enqueued {
                job_id: enqueued.id,
            };
        }
        let result = self
            .client
            .wait_for_result(&enqueued.id, self.params.get_product(), &self.polling)
            .await;
        let result = match result {
            Ok(r) => r,
            Err(error) => {
                return UploadStatus::Failed {
                    job_id: Some(enqueued.id),
                    error,
                }
            }
        };
        let path = out.to_path_buf();
        let written = tokio::task::spawn_blocking(move || {
            let mut bytes = serde_json::to_vec_pretty(result.raw())
                .map_err(|e| Error::io(path.display().to_string(), std::io::Error::other(e)))?;
            bytes.push(b'\n');
            write_replacing(&path, &bytes)
        })
        .await
        .unwrap_or_else(|e| {
            Err(Error::io(
                out.display().to_string(),
                std::io::Error::other(e),
            ))
        });
        match written {
            Ok(()) => UploadStatus::Done {
                job_id: enqueued.id,
                output: out.to_path_buf(),
            },
            Err(error) => UploadStatus::Failed {
                job_id: Some(enqueued.id),
                error,
            },
        }
    }
}
