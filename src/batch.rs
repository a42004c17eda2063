//! Many files at once: inputs expanded from directories, prepared in parallel with rayon, one
//! result per file in input order. One file's failure never stops the others.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Limit, Result};
use crate::memory::{Admission, MemoryBudget};
use crate::options::PrepareOptions;
use crate::prepare::{prepare_admitted, Prepared};

/// Inputs larger than this are not read into memory at all (an over-budget image may be bigger
/// than the API's 100 MB before it is downscaled, but not without bound).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Reads and prepares one file. The file is only read, never modified.
///
/// ```
/// use mindee_prep::{prepare_path, PrepareOptions};
/// let prepared = prepare_path("fixtures/webp/lossy_6mp.webp".as_ref(), &PrepareOptions::default()).unwrap();
/// assert_eq!(prepared.output_format(), mindee_prep::Format::Jpeg);
/// ```
pub fn prepare_path(path: &Path, options: &PrepareOptions) -> Result<Prepared> {
    prepare_path_admitted(path, options, &mut Admission::alone())
}

/// [`prepare_path`] under a batch's budget: the file's bytes are reserved before it is read.
pub(crate) fn prepare_path_admitted(
    path: &Path,
    options: &PrepareOptions,
    admission: &mut Admission<'_>,
) -> Result<Prepared> {
    let context = || path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(context(), e))?
        .len();
    if size > MAX_INPUT_BYTES {
        return Err(Error::TooLarge {
            limit: Limit::Bytes,
            actual: size,
            max: MAX_INPUT_BYTES,
        });
    }
    admission.grow(size);
    let data = std::fs::read(path).map_err(|e| Error::io(context(), e))?;
    prepare_admitted(data, options, admission)
}

/// One file's outcome in a batch.
#[derive(Debug)]
pub struct BatchItem {
    /// Position of this input in the batch.
    pub index: usize,
    /// The input path, as given.
    pub path: PathBuf,
    /// The prepared file, or why it was refused.
    pub result: Result<Prepared>,
    /// Wall time spent on this file, in milliseconds.
    pub millis: u64,
}

/// Prepares every path in parallel, one file per thread of the current rayon pool (pages and
/// images inside a file run on rayon's global pool); results come back in input order.
///
/// Memory is bounded by [`PrepareOptions::max_memory`] for the whole batch: each file is
/// admitted once its estimated footprint fits beside the others' (see
/// [`memory`](crate::memory)), so a 200 MP photo waits for its share instead of running beside
/// seven others.
///
/// Everything is held in memory until the end: for large batches use [`prepare_batch_with`]
/// and write each result as it comes.
///
/// ```
/// use mindee_prep::{prepare_batch, PrepareOptions};
/// let paths = ["fixtures/jpeg/small_2mp.jpg", "fixtures/other/image.gif"];
/// let items = prepare_batch(&paths, &PrepareOptions::default());
/// assert!(items[0].result.is_ok());
/// assert!(items[1].result.is_err()); // GIF is refused, the JPEG still went through
/// ```
pub fn prepare_batch<P: AsRef<Path> + Sync>(
    paths: &[P],
    options: &PrepareOptions,
) -> Vec<BatchItem> {
    prepare_batch_with(paths, options, |item| item)
}

/// Like [`prepare_batch`], but hands each item to `each` on the worker that prepared it (to
/// write it out and drop the bytes), collecting what `each` returns, in input order.
pub fn prepare_batch_with<P, T, F>(paths: &[P], options: &PrepareOptions, each: F) -> Vec<T>
where
    P: AsRef<Path> + Sync,
    T: Send,
    F: Fn(BatchItem) -> T + Sync,
{
    for_each_file(paths, options, |index, path, admission| {
        let path = path.as_ref();
        let start = Instant::now();
        let result = prepare_path_admitted(path, options, admission);
        // The reservation lasts until `each` has written (and dropped) the result.
        each(BatchItem {
            index,
            path: path.to_path_buf(),
            result,
            millis: start.elapsed().as_millis() as u64,
        })
    })
}

/// Runs `work` on every item, one item per worker thread at a time (as many workers as the
/// current rayon pool has threads), each under its [`Admission`] to one shared budget of
/// `options.max_memory`; results in input order.
///
/// Workers are plain threads, not rayon tasks: a rayon thread that waits for a join steals
/// other tasks, so one holding a reservation could start the next file and wait for budget
/// that only it can give back. Rayon is still used inside a file (pages, images), where
/// nothing waits for the budget.
pub(crate) fn for_each_file<I, T, F>(items: &[I], options: &PrepareOptions, work: F) -> Vec<T>
where
    I: Sync,
    T: Send,
    F: Fn(usize, &I, &mut Admission<'_>) -> T + Sync,
{
    let budget = MemoryBudget::for_options(options);
    let workers = rayon::current_num_threads().clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else {
                    break;
                };
                let mut admission = Admission::in_batch(&budget, workers);
                let out = work(index, item, &mut admission);
                drop(admission);
                let mut results = results.lock().unwrap_or_else(|p| p.into_inner());
                results[index] = Some(out);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Expands files and directories (recursively, sorted by name, hidden entries skipped) into the
/// list of files to prepare. A file named twice is kept once.
///
/// ```
/// let files = mindee_prep::expand_inputs(&["fixtures/webp".into()]).unwrap();
/// assert!(files.iter().all(|f| f.starts_with("fixtures/webp")));
/// assert!(files.len() >= 4);
/// ```
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for input in inputs {
        let meta =
            std::fs::metadata(input).map_err(|e| Error::io(input.display().to_string(), e))?;
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(input)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker {
                let entry = entry.map_err(|e| {
                    let context = e.path().unwrap_or(input).display().to_string();
                    Error::io(context, e.into())
                })?;
                if entry.file_type().is_file() && seen.insert(entry.path().to_path_buf()) {
                    files.push(entry.into_path());
                }
            }
        } else if seen.insert(input.clone()) {
            files.push(input.clone());
        }
    }
    Ok(files)
}
