//! # mindee-prep
//!
//! Gets documents and photos ready for the Mindee document-AI API (V2): detects the format from
//! the bytes, refuses what the API refuses (with a reason and a stable kind), scales oversized
//! images to about 4 MP, upright, and passes everything else through untouched.
//!
//! The pipeline reads top to bottom in the modules:
//! [`detect`](mod@detect) → [`server_safe`](mod@server_safe) → [`plan`](mod@plan) → decode (one codec module per format) → [`resize`](mod@resize)
//! → [`orientation`] → encode (the [`encoding`] chosen by content) → [`output`].
//!
//! ```
//! use mindee_prep::{prepare, Action, PrepareOptions};
//!
//! let photo = std::fs::read("fixtures/jpeg/large_24mp.jpg")?;
//! let prepared = prepare(&photo, &PrepareOptions::default())?;
//! assert_eq!(prepared.report().action, Action::Downscaled);
//! assert!(prepared.bytes().len() < photo.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod batch;
#[doc(hidden)]
pub mod bench_api;
pub(crate) mod codec;
pub mod detect;
pub mod encoding;
mod error;
mod format;
pub mod geometry;
pub mod memory;
mod options;
pub mod orientation;
pub mod output;
mod pixels;
pub mod plan;
mod prepare;
pub mod resize;
pub mod server_safe;
pub mod upload;

pub use batch::{
    expand_inputs, prepare_batch, prepare_batch_with, prepare_path, BatchItem, MAX_INPUT_BYTES,
};
pub use detect::{detect, Detected};
pub use encoding::{Encoding, OutputFormat};
pub use error::{ApiProblem, Error, ErrorKind, Limit, Result};
pub use format::Format;
pub use options::{PageOperation, PageSelection, PrepareOptions};
pub use orientation::Orientation;
pub use pixels::Pixels;
pub use plan::{plan, Action, Plan};
pub use prepare::{prepare, prepare_owned, PageImage, Prepared, Report};
pub use upload::{
    ApiKey, Client, ClientBuilder, EnqueueParams, PollingOptions, Product, RetryPolicy, Source,
};
