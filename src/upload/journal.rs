//! The job journal: one SQLite row per document of a batch, written before and after every
//! network step, so that a crash, a Ctrl-C or a rerun never loses a result nor bills a file
//! twice without saying so.
//!
//! A row is keyed by what makes a result: the input's content (SHA-256), the model, the product
//! and the options that change the answer ([`FileKey`]). It records the state
//! ([`State`]: new → prepared → enqueuing → enqueued → processing → done / failed / refused),
//! the job ID once the API gave one, the number of enqueue requests sent, whether the file may
//! have been enqueued twice (`possible_duplicate`), timestamps, the error, and the result's name,
//! which is chosen once and never changes.
//!
//! Durability: WAL with `synchronous = FULL`. Every state change is its own transaction, fsynced
//! before the network step it announces, so a kill (SIGKILL included) or a power cut at any
//! point leaves the journal at the last committed step. A commit costs one fsync (about a
//! millisecond on an SSD) against requests that take from tens of milliseconds to seconds.
//!
//! Concurrency: runs that send (`upload`, `collect`) take a run lock ([`Access::Run`]); a
//! second one is refused at once with [`Error::Config`] naming the journal, and exits 2 in the
//! CLI. The webhook receiver ([`Access::Shared`]) and `status` ([`Access::ReadOnly`]) work beside
//! a run: SQLite serialises their short transactions, so nothing is corrupted.
//!
//! A damaged file (not a database, failed `quick_check`, another application's database) is
//! refused with a clear error before anything is sent: it is never "started over".
//!
//! ```
//! use mindee_prep::upload::journal::{Access, FileKey, Journal, State};
//! use mindee_prep::upload::{EnqueueParams, Product};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut journal = Journal::open(&dir.path().join("journal.sqlite"), Access::Run).unwrap();
//! let key = FileKey::new(b"%PDF-1.4 ...", &EnqueueParams::new("m"), None);
//! let entry = journal.entry_for(&key, "in/scan.pdf", &["scan".into()], dir.path()).unwrap();
//! assert_eq!((entry.state, entry.result_name.as_str()), (State::New, "scan"));
//! journal.begin_attempt(entry.id).unwrap();            // before the POST
//! journal.set_enqueued(entry.id, "job-1").unwrap();     // after the 202
//! let again = journal.entry_for(&key, "in/scan.pdf", &["scan".into()], dir.path()).unwrap();
//! assert_eq!(again.job_id.as_deref(), Some("job-1")); // a rerun polls it, never re-sends
//! ```

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{EnqueueParams, Product};
use crate::{Error, PageOperation, PageSelection};

/// `PRAGMA application_id` of our journals ("MPRJ"): another program's database is refused.
const APPLICATION_ID: i64 = 0x4D50_524A;
/// The schema this version writes.
const SCHEMA_VERSION: i64 = 1;
/// How long a writer waits for another's transaction (the webhook receiver beside a run).
const BUSY_TIMEOUT_MS: u64 = 10_000;

/// Where a batch's journal lives unless `--journal` says otherwise.
///
/// ```
/// use std::path::Path;
/// let p = mindee_prep::upload::journal::default_path(Path::new("results"));
/// assert_eq!(p, Path::new("results/.mindee-prep/journal.sqlite"));
/// ```
pub fn default_path(results_dir: &Path) -> PathBuf {
    results_dir.join(".mindee-prep").join("journal.sqlite")
}

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// Seen, nothing done yet.
    New,
    /// Prepared for sending (the bytes are not kept: a rerun prepares again).
    Prepared,
    /// An enqueue request is being sent, or its outcome is unknown (crash, dropped connection).
    Enqueuing,
    /// The API created a job; its ID is known.
    Enqueued,
    /// The job was polled and is still processing.
    Processing,
    /// The result is on disk.
    Done,
    /// The job failed, or we gave up on it (the error says which).
    Failed,
    /// Refused before any job existed: by the pipeline, or by the API with a 4xx.
    Refused,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [State; 8] = [
        State::New,
        State::Prepared,
        State::Enqueuing,
        State::Enqueued,
        State::Processing,
        State::Done,
        State::Failed,
        State::Refused,
    ];

    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Prepared => "prepared",
            State::Enqueuing => "enqueuing",
            State::Enqueued => "enqueued",
            State::Processing => "processing",
            State::Done => "done",
            State::Failed => "failed",
            State::Refused => "refused",
        }
    }

    fn parse(s: &str) -> State {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .unwrap_or(State::Failed)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What identifies one result: the input's bytes, the model, the product and the options that
/// change the answer (alias, extraction options, PDF page selection). Webhook IDs and image
/// budget options are left out: they change where the answer goes or how many pixels travel,
/// not what the document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    /// SHA-256 of the row's identity, hex.
    pub key: String,
    /// SHA-256 of the input's bytes (of the URL for URL inputs), hex.
    pub content_sha256: String,
    /// The model.
    pub model_id: String,
    /// The product.
    pub product: Product,
    /// The options, as stored (no secret: the data schema is kept as its hash).
    pub options_json: String,
}

impl FileKey {
    /// The key of `content` (a file's bytes, or a URL) sent with `params` and, for PDFs, a
    /// page selection.
    pub fn new(content: &[u8], params: &EnqueueParams, pages: Option<&PageSelection>) -> Self {
        let content_sha256 = hex(&Sha256::digest(content));
        let options = serde_json::json!({
            "alias": params.alias,
            "rag": params.rag,
            "raw_text": params.raw_text,
            "polygon": params.polygon,
            "confidence": params.confidence,
            "text_context": params.text_context,
            "data_schema_sha256": params.data_schema.as_ref().map(|s| hex(&Sha256::digest(s.as_bytes()))),
            "pages": pages.map(|p| serde_json::json!({
                "indexes": p.indexes,
                "operation": match p.operation { PageOperation::KeepOnly => "keep_only", PageOperation::Remove => "remove" },
                "min_pages": p.min_pages,
            })),
        });
        let options_json = options.to_string();
        let mut h = Sha256::new();
        for part in [
            "mindee-prep journal key v1",
            &content_sha256,
            &params.model_id,
            params.product.slug(),
            &options_json,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        FileKey {
            key: hex(&h.finalize()),
            content_sha256,
            model_id: params.model_id.clone(),
            product: params.product,
            options_json,
        }
    }
}

/// One row of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Row ID.
    pub id: i64,
    /// See [`FileKey::key`].
    pub key: String,
    /// The input as last given (a path or a URL).
    pub input: String,
    /// SHA-256 of the input's content.
    pub content_sha256: String,
    /// The model.
    pub model_id: String,
    /// The product's slug.
    pub product: String,
    /// Where it stands.
    pub state: State,
    /// The job, once the API created one.
    pub job_id: Option<String>,
    /// Enqueue requests sent for this row, over all runs.
    pub attempts: u32,
    /// An enqueue request whose outcome is unknown was followed by another: the API may hold
    /// two jobs (two bills) for this document.
    pub possible_duplicate: bool,
    /// The last enqueue request's outcome is unknown: a job may exist that we have no ID for.
    pub unsure: bool,
    /// The result's file name without `.json`, unique in the journal (ignoring case).
    pub result_name: String,
    /// The error's stable kind, for failed and refused rows.
    pub error_kind: Option<String>,
    /// The error, for failed and refused rows.
    pub error: Option<String>,
    /// When the row was created (Unix seconds).
    pub created_at: i64,
    /// When the row last changed (Unix seconds).
    pub updated_at: i64,
}

impl Entry {
    /// `results_dir/<result_name>.json`.
    pub fn result_path(&self, results_dir: &Path) -> PathBuf {
        results_dir.join(format!("{}.json", self.result_name))
    }

    /// The product, parsed.
    pub fn product(&self) -> Product {
        self.product.parse().unwrap_or_default()
    }
}

/// A webhook result that arrived for a job the journal did not know (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The job (inference) ID.
    pub job_id: String,
    /// Where the result was written, relative to the results folder (`None` for a failure).
    pub file_name: Option<String>,
    /// The failure's description, for a failed-inference payload.
    pub error: Option<String>,
    /// When it arrived (Unix seconds).
    pub received_at: i64,
}

/// How a journal is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// A run that sends (upload, collect): takes the run lock; a second run is refused.
    Run,
    /// A writer beside a run (the webhook receiver): no run lock, short transactions.
    Shared,
    /// Reading only (`status`); the journal must exist.
    ReadOnly,
}

/// An open journal. See the [module documentation](self).
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    // Held for the life of a run: an open exclusive transaction on a lock database beside the
    // journal. The OS drops the lock with the process, however it ends.
    _run_lock: Option<Connection>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("run_lock", &self._run_lock.is_some())
            .finish()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn damaged(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Config(format!(
        "the job journal {} is damaged or not a mindee-prep journal ({what}); nothing was sent. \
         It was left as it is: move it aside to start a new journal (files without a result \
         on disk would then be sent again), or point --journal elsewhere",
        path.display()
    ))
}

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            damaged(path, e)
        }
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            Error::Config(format!(
                "the job journal {} stayed locked by another process for {} s: {e}",
                path.display(),
                BUSY_TIMEOUT_MS / 1000
            ))
        }
        _ => Error::io(
            format!("job journal {}", path.display()),
            std::io::Error::other(e.to_string()),
        ),
    }
}

const ROW_COLUMNS: &str = "id, key, input, content_sha256, model_id, product, state, job_id, \
    attempts, possible_duplicate, unsure, result_name, error_kind, error, created_at, updated_at";

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        key: r.get(1)?,
        input: r.get(2)?,
        content_sha256: r.get(3)?,
        model_id: r.get(4)?,
        product: r.get(5)?,
        state: State::parse(&r.get::<_, String>(6)?),
        job_id: r.get(7)?,
        attempts: r.get(8)?,
        possible_duplicate: r.get(9)?,
        unsure: r.get(10)?,
        result_name: r.get(11)?,
        error_kind: r.get(12)?,
        error: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
    })
}

impl Journal {
    /// Opens (creating when `access` writes) the journal at `path`.
    ///
    /// Errors: [`Error::Config`] when the file is damaged or another run holds it (the CLI exits
    /// 2 on both), [`Error::Io`] when it cannot be created or read.
    pub fn open(path: &Path, access: Access) -> Result<Journal, Error> {
        if access == Access::ReadOnly && !path.is_file() {
            return Err(Error::Config(format!(
                "no job journal at {}: nothing was uploaded with these results yet (or pass --journal)",
                path.display()
            )));
        }
        if access != Access::ReadOnly {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(dir.display().to_string(), e))?;
            }
        }
        // Refuse a file that is plainly not SQLite before SQLite touches it (it would not
        // change it, but the message is clearer).
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.len() > 0 {
                let mut head = [0u8; 16];
                let n = std::fs::File::open(path)
                    .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                    .map_err(|e| Error::io(path.display().to_string(), e))?;
                if n < 16 || &head != b"SQLite format 3\0" {
                    return Err(damaged(path, "no SQLite header"));
                }
            }
        }
        let run_lock = if access == Access::Run {
            Some(take_run_lock(path)?)
        } else {
            None
        };
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            _ => {
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
            }
        };
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, e))?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(|e| sql_error(path, e))?;
        let journal = Journal {
            conn,
            path: path.to_path_buf(),
            _run_lock: run_lock,
        };
        journal.check_and_migrate(access)?;
        Ok(journal)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_and_migrate(&self, access: Access) -> Result<(), Error> {
        let path = &self.path;
        let err = |e| sql_error(path, e);
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(err)?;
        if check != "ok" {
            return Err(damaged(path, format!("integrity check: {check}")));
        }
        let app: i64 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(err)?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(err)?;
        if app != APPLICATION_ID {
            if app != 0 || tables != 0 {
                return Err(damaged(path, "another program's SQLite database"));
            }
            if access == Access::ReadOnly {
                return Err(damaged(path, "an empty database"));
            }
        } else {
            let version: i64 = self
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(err)?;
            if version > SCHEMA_VERSION {
                return Err(Error::Config(format!(
                    "the job journal {} was written by a newer mindee-prep (schema {version}); update mindee-prep",
                    path.display()
                )));
            }
        }
        if access == Access::ReadOnly {
            return Ok(());
        }
        // WAL: readers (status, the receiver) never block the run; FULL: each commit is on disk
        // before the network step it announces (see the module documentation).
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Config(format!(
                "the job journal {} cannot use write-ahead logging (got {mode}); put it on a local file system",
                path.display()
            )));
        }
        self.conn
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(err)?;
        if app == 0 {
            self.conn
                .execute_batch(&format!(
                    "BEGIN IMMEDIATE;
                     CREATE TABLE IF NOT EXISTS files (
                         id INTEGER PRIMARY KEY,
                         key TEXT NOT NULL UNIQUE,
                         input TEXT NOT NULL,
                         content_sha256 TEXT NOT NULL,
                         model_id TEXT NOT NULL,
                         product TEXT NOT NULL,
                         options TEXT NOT NULL,
                         state TEXT NOT NULL,
                         job_id TEXT UNIQUE,
                         attempts INTEGER NOT NULL DEFAULT 0,
                         possible_duplicate INTEGER NOT NULL DEFAULT 0,
                         unsure INTEGER NOT NULL DEFAULT 0,
                         result_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                         error_kind TEXT,
                         error TEXT,
                         created_at INTEGER NOT NULL,
                         updated_at INTEGER NOT NULL
                     );
                     CREATE TABLE IF NOT EXISTS deliveries (
                         job_id TEXT PRIMARY KEY,
                         file_name TEXT,
                         error TEXT,
                         received_at INTEGER NOT NULL
                     );
                     PRAGMA application_id = {APPLICATION_ID};
                     PRAGMA user_version = {SCHEMA_VERSION};
                     COMMIT;"
                ))
                .map_err(err)?;
        }
        Ok(())
    }

    fn sql<T>(&self, r: rusqlite::Result<T>) -> Result<T, Error> {
        r.map_err(|e| sql_error(&self.path, e))
    }

    /// The row for `key`, created when new with the first free name among `names` (then
    /// `<first>-2`, `<first>-3`, …): free means no other row has it (ignoring case) and no file
    /// `<name>.json` exists in `results_dir` that the journal does not attribute to this row.
    /// `input` is updated to the latest path given.
    pub fn entry_for(
        &mut self,
        key: &FileKey,
        input: &str,
        names: &[String],
        results_dir: &Path,
    ) -> Result<Entry, Error> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&path, e))?;
        let existing = tx
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM files WHERE key = ?1"),
                [&key.key],
                row_to_entry,
            )
            .optional()
            .map_err(|e| sql_error(&path, e))?;
        let id = if let Some(e) = existing {
            if e.input != input {
                tx.execute(
                    "UPDATE files SET input = ?1 WHERE id = ?2",
                    params![input, e.id],
                )
                .map_err(|e| sql_error(&path, e))?;
            }
            e.id
        } else {
            let first = names.first().cloned().unwrap_or_else(|| "document".into());
            let candidates = names
                .iter()
                .cloned()
                .chain((2..10_000).map(|n| format!("{first}-{n}")));
            let mut chosen = None;
            for name in candidates {
                let taken: bool = tx
                    .query_row(
                        "SELECT EXISTS(SELECT 1 FROM files WHERE result_name = ?1)",
                        [&name],
                        |r| r.get(0),
                    )
                    .map_err(|e| sql_error(&path, e))?;
                if !taken && !results_dir.join(format!("{name}.json")).exists() {
                    chosen = Some(name);
                    break;
                }
            }
            let name = chosen.ok_or_else(|| {
                Error::Config(format!("no free result name for {input} in the journal"))
            })?;
            let t = now();
            tx.execute(
                "INSERT INTO files (key, input, content_sha256, model_id, product, options, state,
                                    result_name, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', ?7, ?8, ?8)",
                params![
                    key.key,
                    input,
                    key.content_sha256,
                    key.model_id,
                    key.product.slug(),
                    key.options_json,
                    name,
                    t
                ],
            )
            .map_err(|e| sql_error(&path, e))?;
            tx.last_insert_rowid()
        };
        tx.commit().map_err(|e| sql_error(&path, e))?;
        self.get(id)
    }

    /// The row with this ID.
    pub fn get(&self, id: i64) -> Result<Entry, Error> {
        self.sql(self.conn.query_row(
            &format!("SELECT {ROW_COLUMNS} FROM files WHERE id = ?1"),
            [id],
            row_to_entry,
        ))
    }

    /// The row of this job, if the journal knows it.
    pub fn by_job_id(&self, job_id: &str) -> Result<Option<Entry>, Error> {
        self.sql(
            self.conn
                .query_row(
                    &format!("SELECT {ROW_COLUMNS} FROM files WHERE job_id = ?1"),
                    [job_id],
                    row_to_entry,
                )
                .optional(),
        )
    }

    /// Every row, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, Error> {
        let mut stmt = self.sql(
            self.conn
                .prepare(&format!("SELECT {ROW_COLUMNS} FROM files ORDER BY id")),
        )?;
        let rows = self.sql(stmt.query_map([], row_to_entry))?;
        let out: rusqlite::Result<Vec<Entry>> = rows.collect();
        self.sql(out)
    }

    /// Webhook results that arrived for jobs the journal does not know.
    pub fn unmatched_deliveries(&self) -> Result<Vec<Delivery>, Error> {
        let mut stmt = self.sql(self.conn.prepare(
            "SELECT job_id, file_name, error, received_at FROM deliveries ORDER BY received_at",
        ))?;
        let rows = self.sql(stmt.query_map([], |r| {
            Ok(Delivery {
                job_id: r.get(0)?,
                file_name: r.get(1)?,
                error: r.get(2)?,
                received_at: r.get(3)?,
            })
        }))?;
        let out: rusqlite::Result<Vec<Delivery>> = rows.collect();
        self.sql(out)
    }

    fn update(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), Error> {
        self.sql(self.conn.execute(sql, params)).map(|_| ())
    }

    /// The file was prepared and is about to be sent.
    pub fn set_prepared(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'prepared', updated_at = ?2 WHERE id = ?1 AND job_id IS NULL",
            params![id, now()],
        )
    }

    /// Before an enqueue request leaves: counts it, marks its outcome unknown until told, and
    /// marks the row a possible duplicate when the previous request's outcome was unknown.
    pub fn begin_attempt(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'enqueuing', attempts = attempts + 1,
                              possible_duplicate = possible_duplicate OR unsure,
                              unsure = 1, error_kind = NULL, error = NULL, updated_at = ?2
             WHERE id = ?1",
            params![id, now()],
        )
    }

    /// The last enqueue request surely created no job (429, 503, a 4xx, no connection).
    pub fn attempt_created_nothing(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET unsure = 0, updated_at = ?2 WHERE id = ?1",
            params![id, now()],
        )
    }

    /// The API created job `job_id`. When its result already came by webhook (the receiver
    /// wrote it under the job's ID), that delivery is returned and removed from the unmatched
    /// ones: the caller moves the file to the row's name and calls [`Journal::set_done`].
    pub fn set_enqueued(&mut self, id: i64, job_id: &str) -> Result<Option<Delivery>, Error> {
        let path = self.path.clone();
        let e = |e| sql_error(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        tx.execute(
            "UPDATE files SET state = 'enqueued', job_id = ?2, unsure = 0, error_kind = NULL,
                              error = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, job_id, now()],
        )
        .map_err(e)?;
        let delivery = tx
            .query_row(
                "SELECT job_id, file_name, error, received_at FROM deliveries WHERE job_id = ?1",
                [job_id],
                |r| {
                    Ok(Delivery {
                        job_id: r.get(0)?,
                        file_name: r.get(1)?,
                        error: r.get(2)?,
                        received_at: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(e)?;
        if delivery.is_some() {
            tx.execute("DELETE FROM deliveries WHERE job_id = ?1", [job_id])
                .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(delivery)
    }

    /// The job was polled and is still processing.
    pub fn set_processing(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'processing', updated_at = ?2
             WHERE id = ?1 AND state IN ('enqueued', 'processing')",
            params![id, now()],
        )
    }

    /// The result is on disk under the row's name.
    pub fn set_done(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'done', error_kind = NULL, error = NULL, updated_at = ?2
             WHERE id = ?1",
            params![id, now()],
        )
    }

    /// Failed: the job failed or we gave up (the job ID, if any, is kept so a rerun polls it).
    pub fn set_failed(&self, id: i64, error: &Error) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'failed', error_kind = ?2, error = ?3, updated_at = ?4
             WHERE id = ?1",
            params![id, error.kind().as_str(), error.to_string(), now()],
        )
    }

    /// Refused before a job existed (pipeline, or a 4xx to the enqueue request).
    pub fn set_refused(&self, id: i64, error: &Error) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'refused', error_kind = ?2, error = ?3, updated_at = ?4
             WHERE id = ?1 AND job_id IS NULL",
            params![id, error.kind().as_str(), error.to_string(), now()],
        )
    }

    /// `--force`: forget the job so the file is sent again. The name is kept; a job whose
    /// outcome was unknown still makes the next request a possible duplicate.
    pub fn reset(&self, id: i64) -> Result<(), Error> {
        self.update(
            "UPDATE files SET state = 'new', job_id = NULL, error_kind = NULL, error = NULL,
                              updated_at = ?2 WHERE id = ?1",
            params![id, now()],
        )
    }

    /// The receiver got a result (or a failure) for `job_id`. In one transaction: when the job
    /// is known, `write(Some(row))` writes its file and the row becomes done (or failed, for a
    /// failure); otherwise `write(None)` writes `<job_id>.json` and the delivery is recorded
    /// for [`Journal::set_enqueued`] to pick up. `write` returns the file name written.
    pub fn record_delivery(
        &mut self,
        job_id: &str,
        failure: Option<&str>,
        write: impl FnOnce(Option<&Entry>) -> Result<Option<String>, Error>,
    ) -> Result<Option<Entry>, Error> {
        let path = self.path.clone();
        let e = |e| sql_error(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let row = tx
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM files WHERE job_id = ?1"),
                [job_id],
                row_to_entry,
            )
            .optional()
            .map_err(e)?;
        let written = write(row.as_ref())?;
        match (&row, failure) {
            (Some(r), None) => {
                tx.execute(
                    "UPDATE files SET state = 'done', error_kind = NULL, error = NULL,
                                      updated_at = ?2 WHERE id = ?1",
                    params![r.id, now()],
                )
                .map_err(e)?;
            }
            (Some(r), Some(msg)) => {
                if r.state != State::Done {
                    tx.execute(
                        "UPDATE files SET state = 'failed', error_kind = 'job_failed', error = ?2,
                                          updated_at = ?3 WHERE id = ?1",
                        params![r.id, msg, now()],
                    )
                    .map_err(e)?;
                }
            }
            (None, _) => {
                tx.execute(
                    "INSERT INTO deliveries (job_id, file_name, error, received_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(job_id) DO UPDATE SET file_name = excluded.file_name,
                         error = excluded.error",
                    params![job_id, written, failure, now()],
                )
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(row)
    }
}

/// The run lock: an exclusive transaction held open on `<journal>.lock`, a tiny SQLite file.
/// SQLite's file locks are released by the OS when the process ends, however it ends, so a
/// killed run never leaves a stale lock behind.
fn take_run_lock(journal: &Path) -> Result<Connection, Error> {
    let mut lock_path = journal.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let err = |e: rusqlite::Error| {
        Error::io(
            format!("run lock {}", lock_path.display()),
            std::io::Error::other(e.to_string()),
        )
    };
    let conn = Connection::open(&lock_path).map_err(err)?;
    conn.busy_timeout(std::time::Duration::ZERO).map_err(err)?;
    match conn.execute_batch(
        "PRAGMA journal_mode = DELETE; CREATE TABLE IF NOT EXISTS run_lock (x); BEGIN EXCLUSIVE;",
    ) {
        Ok(()) => Ok(conn),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
            ) =>
        {
            Err(Error::Config(format!(
                "another mindee-prep run (upload or collect) is using the job journal {}; wait for it to end, or give this run another --journal",
                journal.display()
            )))
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(content: &[u8]) -> FileKey {
        FileKey::new(content, &EnqueueParams::new("m"), None)
    }

    #[test]
    fn keys_follow_content_model_and_options() {
        let p = EnqueueParams::new("m");
        let base = FileKey::new(b"a", &p, None);
        assert_eq!(base, FileKey::new(b"a", &p, None));
        assert_ne!(base.key, FileKey::new(b"b", &p, None).key);
        assert_ne!(
            base.key,
            FileKey::new(b"a", &EnqueueParams::new("n"), None).key
        );
        assert_ne!(
            base.key,
            FileKey::new(b"a", &p.clone().raw_text(true), None).key
        );
        assert_ne!(
            base.key,
            FileKey::new(b"a", &p.clone().product(Product::Ocr), None).key
        );
        // Where the answer goes is not what the answer is.
        assert_eq!(
            base.key,
            FileKey::new(b"a", &p.clone().webhook_id("w"), None).key
        );
        let pages = PageSelection {
            indexes: vec![0],
            operation: PageOperation::KeepOnly,
            min_pages: 0,
        };
        assert_ne!(base.key, FileKey::new(b"a", &p, Some(&pages)).key);
        let schema = FileKey::new(b"a", &p.clone().data_schema(r#"{"secret":1}"#), None);
        assert!(!schema.options_json.contains("secret"));
    }

    #[test]
    fn names_are_unique_stable_and_never_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.sqlite"), Access::Run).unwrap();
        std::fs::write(dir.path().join("taken.json"), b"{}").unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = j
            .entry_for(
                &key(b"1"),
                "a/scan.pdf",
                &names(&["scan", "scan.pdf"]),
                dir.path(),
            )
            .unwrap();
        let b = j
            .entry_for(
                &key(b"2"),
                "b/SCAN.jpg",
                &names(&["Scan", "SCAN.jpg"]),
                dir.path(),
            )
            .unwrap();
        let c = j
            .entry_for(&key(b"3"), "taken.png", &names(&["taken"]), dir.path())
            .unwrap();
        let d = j
            .entry_for(
                &key(b"4"),
                "x/scan.pdf",
                &names(&["scan", "scan.pdf"]),
                dir.path(),
            )
            .unwrap();
        assert_eq!(
            [
                &a.result_name,
                &b.result_name,
                &c.result_name,
                &d.result_name
            ],
            ["scan", "SCAN.jpg", "taken-2", "scan.pdf"]
        );
        // Same key again: same row, same name, whatever names are offered now.
        let a2 = j
            .entry_for(&key(b"1"), "moved/scan.pdf", &names(&["other"]), dir.path())
            .unwrap();
        assert_eq!((a2.id, a2.result_name.as_str()), (a.id, "scan"));
        assert_eq!(a2.input, "moved/scan.pdf");
    }

    #[test]
    fn attempts_unsure_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.sqlite"), Access::Run).unwrap();
        let e = j
            .entry_for(&key(b"1"), "a", &["a".into()], dir.path())
            .unwrap();
        j.begin_attempt(e.id).unwrap();
        j.attempt_created_nothing(e.id).unwrap(); // a 429
        j.begin_attempt(e.id).unwrap();
        let mid = j.get(e.id).unwrap();
        assert_eq!(
            (mid.attempts, mid.unsure, mid.possible_duplicate),
            (2, true, false)
        );
        // The second request was dropped after sending; the third may duplicate it.
        j.begin_attempt(e.id).unwrap();
        assert!(j.set_enqueued(e.id, "job-1").unwrap().is_none());
        let done = j.get(e.id).unwrap();
        assert_eq!(done.state, State::Enqueued);
        assert_eq!(
            (done.attempts, done.unsure, done.possible_duplicate),
            (3, false, true)
        );
        assert_eq!(j.by_job_id("job-1").unwrap().unwrap().id, e.id);
    }

    #[test]
    fn a_second_run_is_refused_and_a_reader_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let first = Journal::open(&path, Access::Run).unwrap();
        let err = Journal::open(&path, Access::Run).unwrap_err();
        assert!(err.to_string().contains("another mindee-prep run"), "{err}");
        Journal::open(&path, Access::ReadOnly).unwrap();
        Journal::open(&path, Access::Shared).unwrap();
        drop(first);
        Journal::open(&path, Access::Run).unwrap();
    }

    #[test]
    fn damaged_files_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        std::fs::write(&path, b"this is not a database at all, just text").unwrap();
        let err = Journal::open(&path, Access::Run).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a database at all, just text"
        );
        // Another program's database.
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = Journal::open(&other, Access::Run).unwrap_err();
        assert!(err.to_string().contains("another program"), "{err}");
        // Status without a journal.
        let err = Journal::open(&dir.path().join("none.sqlite"), Access::ReadOnly).unwrap_err();
        assert!(err.to_string().contains("no job journal"), "{err}");
    }

    #[test]
    fn deliveries_before_the_job_id_are_matched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let mut run = Journal::open(&path, Access::Run).unwrap();
        let mut receiver = Journal::open(&path, Access::Shared).unwrap();
        let e = run
            .entry_for(&key(b"1"), "a", &["a".into()], dir.path())
            .unwrap();
        run.begin_attempt(e.id).unwrap();
        // The webhook beats the 202.
        let row = receiver
            .record_delivery("job-9", None, |row| {
                assert!(row.is_none());
                Ok(Some("job-9.json".into()))
            })
            .unwrap();
        assert!(row.is_none());
        assert_eq!(run.unmatched_deliveries().unwrap().len(), 1);
        let d = run.set_enqueued(e.id, "job-9").unwrap().unwrap();
        assert_eq!(d.file_name.as_deref(), Some("job-9.json"));
        assert!(run.unmatched_deliveries().unwrap().is_empty());
        // A later delivery finds the row.
        let row = receiver
            .record_delivery("job-9", None, |row| Ok(row.map(|r| r.result_name.clone())))
            .unwrap()
            .unwrap();
        assert_eq!(row.id, e.id);
        assert_eq!(run.get(e.id).unwrap().state, State::Done);
    }
}
