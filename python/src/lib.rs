//! The native half of the `mindee_prep` Python package (the Python half, in
//! `python/mindee_prep/`, turns these tuples into `Prepared` objects and exceptions).
//!
//! Every call releases the GIL for the whole of the Rust work, so Python threads run while files
//! are prepared and `prepare_many` uses every core. Results cross the boundary as plain tuples
//! and JSON text: the report is serialised by the same serde code as `prepare --json`, so the
//! two cannot drift apart.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use mindee_prep::{Error, PageOperation, PageSelection, PrepareOptions, Prepared};

/// `("ok", data, extension, report_json)` or `("error", kind, message, format_or_none)`.
type Outcome = (String, Py<PyAny>, Py<PyAny>, Py<PyAny>);

/// The options, from the keyword arguments of `prepare` (already type-checked in Python).
#[allow(clippy::too_many_arguments)]
fn options(
    max_mp: f64,
    target_mp: f64,
    quality: u8,
    pdf_password: Option<String>,
    pages: Option<Vec<i64>>,
    remove_pages: Option<Vec<i64>>,
    min_pages: u32,
) -> PyResult<PrepareOptions> {
    let pdf_pages = match (pages, remove_pages) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "pages and remove_pages cannot be used together",
            ))
        }
        (Some(indexes), None) => Some((indexes, PageOperation::KeepOnly)),
        (None, Some(indexes)) => Some((indexes, PageOperation::Remove)),
        (None, None) => None,
    };
    Ok(PrepareOptions {
        max_megapixels: max_mp,
        target_megapixels: target_mp,
        jpeg_quality: quality,
        pdf_password,
        pdf_pages: pdf_pages.map(|(indexes, operation)| PageSelection {
            indexes,
            operation,
            min_pages,
        }),
        ..PrepareOptions::default()
    })
}

fn outcome(py: Python<'_>, result: mindee_prep::Result<Prepared>) -> PyResult<Outcome> {
    match result {
        Ok(prepared) => {
            let report = serde_json::to_string(prepared.report())
                .map_err(|e| PyValueError::new_err(format!("report: {e}")))?;
            let extension = prepared.output_format().extension();
            Ok((
                "ok".into(),
                PyBytes::new(py, prepared.bytes()).into_any().unbind(),
                extension.into_pyobject(py)?.into_any().unbind(),
                report.into_pyobject(py)?.into_any().unbind(),
            ))
        }
        Err(error) => error_outcome(py, &error),
    }
}

fn error_outcome(py: Python<'_>, error: &Error) -> PyResult<Outcome> {
    Ok((
        "error".into(),
        error.kind().as_str().into_pyobject(py)?.into_any().unbind(),
        error.to_string().into_pyobject(py)?.into_any().unbind(),
        error.format_name().into_pyobject(py)?.into_any().unbind(),
    ))
}

/// Prepares bytes held by Python (read in place: no copy of the input).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (data, max_mp, target_mp, quality, pdf_password, pages, remove_pages, min_pages))]
fn prepare_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyBytes>,
    max_mp: f64,
    target_mp: f64,
    quality: u8,
    pdf_password: Option<String>,
    pages: Option<Vec<i64>>,
    remove_pages: Option<Vec<i64>>,
    min_pages: u32,
) -> PyResult<Outcome> {
    let options = options(
        max_mp,
        target_mp,
        quality,
        pdf_password,
        pages,
        remove_pages,
        min_pages,
    )?;
    let input: &[u8] = data.as_bytes();
    let result = py.detach(|| mindee_prep::prepare(input, &options));
    outcome(py, result)
}

/// Reads and prepares one file (read with the GIL released).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (path, max_mp, target_mp, quality, pdf_password, pages, remove_pages, min_pages))]
fn prepare_path(
    py: Python<'_>,
    path: PathBuf,
    max_mp: f64,
    target_mp: f64,
    quality: u8,
    pdf_password: Option<String>,
    pages: Option<Vec<i64>>,
    remove_pages: Option<Vec<i64>>,
    min_pages: u32,
) -> PyResult<Outcome> {
    let options = options(
        max_mp,
        target_mp,
        quality,
        pdf_password,
        pages,
        remove_pages,
        min_pages,
    )?;
    let result = py.detach(|| mindee_prep::prepare_path(&path, &options));
    outcome(py, result)
}

/// Prepares many files on a rayon pool of `jobs` threads (0: one per core), in input order.
/// Bad options are one error for the batch (first element), not one per file.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (paths, jobs, max_mp, target_mp, quality, pdf_password, pages, remove_pages, min_pages))]
fn prepare_many(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    jobs: usize,
    max_mp: f64,
    target_mp: f64,
    quality: u8,
    pdf_password: Option<String>,
    pages: Option<Vec<i64>>,
    remove_pages: Option<Vec<i64>>,
    min_pages: u32,
) -> PyResult<(Option<Outcome>, Vec<Outcome>)> {
    let options = options(
        max_mp,
        target_mp,
        quality,
        pdf_password,
        pages,
        remove_pages,
        min_pages,
    )?;
    if let Err(error) = options.validate() {
        return Ok((Some(error_outcome(py, &error)?), Vec::new()));
    }
    let results = py.detach(|| {
        let run = || mindee_prep::prepare_batch_with(&paths, &options, |item| item.result);
        if jobs == 0 {
            Ok(run())
        } else {
            rayon::ThreadPoolBuilder::new()
                .num_threads(jobs)
                .build()
                .map(|pool| pool.install(run))
        }
    });
    let results =
        results.map_err(|e| PyValueError::new_err(format!("cannot start workers: {e}")))?;
    let outcomes = results
        .into_iter()
        .map(|result| outcome(py, result))
        .collect::<PyResult<_>>()?;
    Ok((None, outcomes))
}

/// What detection sees: the JSON object of `mindee-prep inspect` (without `input`).
#[pyfunction]
fn inspect_bytes(py: Python<'_>, data: &Bound<'_, PyBytes>) -> String {
    let input: &[u8] = data.as_bytes();
    py.detach(|| inspect_json(input).to_string())
}

fn inspect_json(bytes: &[u8]) -> serde_json::Value {
    use serde_json::{json, Value};
    let error_json = |e: &Error| json!({ "kind": e.kind().as_str(), "message": e.to_string() });
    match mindee_prep::detect(bytes) {
        Ok(found) => {
            let mut line = json!({ "status": "ok", "bytes": bytes.len() });
            if let (Value::Object(map), Ok(Value::Object(facts))) =
                (&mut line, serde_json::to_value(&found))
            {
                map.extend(facts);
            }
            if let Some(refusal) = found.refusal() {
                line["status"] = "rejected".into();
                line["error"] = error_json(&refusal);
            }
            line
        }
        Err(e) => {
            let mut line = json!({ "status": "rejected" });
            if let Some(format) = e.format_name() {
                line["format"] = format.into();
            }
            line["error"] = error_json(&e);
            line
        }
    }
}

/// Reads a file with the GIL released; `("ok", bytes)` or the error outcome's fields.
#[pyfunction]
fn read_file(py: Python<'_>, path: PathBuf) -> PyResult<Outcome> {
    let read = py.detach(|| {
        let size = std::fs::metadata(&path)?.len();
        if size > mindee_prep::MAX_INPUT_BYTES {
            return Err(std::io::Error::other(format!(
                "larger than {} bytes",
                mindee_prep::MAX_INPUT_BYTES
            )));
        }
        std::fs::read(&path)
    });
    match read {
        Ok(bytes) => Ok((
            "ok".into(),
            PyBytes::new(py, &bytes).into_any().unbind(),
            py.None(),
            py.None(),
        )),
        Err(source) => error_outcome(
            py,
            &Error::Io {
                context: path.display().to_string(),
                source,
            },
        ),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(prepare_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(prepare_path, m)?)?;
    m.add_function(wrap_pyfunction!(prepare_many, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(read_file, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
