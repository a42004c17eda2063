//! The crate's single error type.
//!
//! Every refusal carries a stable machine-readable [`ErrorKind`] (spelled in snake case in JSON
//! output, e.g. `animated_image`) and a sentence a person understands.

use std::fmt;

use serde::Serialize;

use crate::format::Format;

/// A stable, machine-readable classification of an [`Error`].
///
/// Scripts match on these names (see [`ErrorKind::as_str`]); they never change meaning.
///
/// ```
/// use mindee_prep::ErrorKind;
/// assert_eq!(ErrorKind::AnimatedImage.as_str(), "animated_image");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input has no bytes at all.
    EmptyFile,
    /// A format the API does not accept (GIF, BMP, AVIF, …) or that we do not recognise.
    UnsupportedFormat,
    /// An animated image (WebP, APNG, HEIF sequence): the API wants one still frame.
    AnimatedImage,
    /// A PDF that needs a password.
    EncryptedPdf,
    /// The bytes claim to be an accepted format but are damaged.
    Corrupt,
    /// Over a pixel or byte limit.
    TooLarge,
    /// An accepted format in a variant this build cannot decode, which cannot pass through
    /// either (over budget, or a variant the API's decoders do not read: uncompressed HEIF,
    /// hierarchical JPEG, JPEG 2000 in TIFF…).
    Undecodable,
    /// Our own limit was hit while working on a valid file (memory budget, out of memory, an
    /// encoder's limit): not the file's fault.
    ResourceLimit,
    /// A bug in this tool (an encoder panicked, an impossible plan): not the file's fault.
    Internal,
    /// Reading or writing a file failed.
    Io,
    /// Options or configuration are invalid (bad numbers, missing API key, …).
    Config,
    /// The API refused the key (HTTP 401).
    Unauthorized,
    /// The API answered with an error (status, code, title, detail, pointers).
    Api,
    /// The API asked us to slow down (HTTP 429) more often than the retry budget allows.
    RateLimited,
    /// A request or the polling flow took longer than allowed.
    Timeout,
    /// The connection failed.
    Network,
    /// The API processed the job and reported a failure.
    JobFailed,
}

impl ErrorKind {
    /// The stable snake-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::EmptyFile => "empty_file",
            ErrorKind::UnsupportedFormat => "unsupported_format",
            ErrorKind::AnimatedImage => "animated_image",
            ErrorKind::EncryptedPdf => "encrypted_pdf",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Undecodable => "undecodable",
            ErrorKind::ResourceLimit => "resource_limit",
            ErrorKind::Internal => "internal",
            ErrorKind::Io => "io",
            ErrorKind::Config => "config",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Api => "api",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::JobFailed => "job_failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which limit a [`Error::TooLarge`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Pixels in one image or page, as declared by its header.
    Pixels,
    /// Bytes in one file (the API takes at most 100 MB).
    Bytes,
    /// Pages in one document.
    Pages,
    /// Bytes of memory the work on one file needs (`PrepareOptions::max_memory`).
    Memory,
}

/// Everything that can go wrong, in preparing or uploading a file.
///
/// ```
/// let err = mindee_prep::prepare(b"", &Default::default()).unwrap_err();
/// assert_eq!(err.kind(), mindee_prep::ErrorKind::EmptyFile);
/// assert_eq!(err.to_string(), "the file is empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::EmptyFile`].
    #[error("the file is empty")]
    EmptyFile,

    /// See [`ErrorKind::UnsupportedFormat`]. `format` names what was found ("GIF", "AVIF", "unknown").
    #[error("{format} is not accepted by the API; send PDF, JPEG, PNG, WebP, HEIC/HEIF or TIFF")]
    UnsupportedFormat {
        /// What the bytes are, as a person would name it.
        format: String,
    },

    /// See [`ErrorKind::AnimatedImage`].
    #[error("{} is not accepted by the API; send one frame as PNG or JPEG", describe_animation(*.format, *.frames))]
    AnimatedImage {
        /// The container format.
        format: Format,
        /// Number of frames, when the header says.
        frames: Option<u32>,
    },

    /// See [`ErrorKind::EncryptedPdf`].
    #[error("the PDF is password-protected and the API refuses encrypted PDFs; {hint}")]
    EncryptedPdf {
        /// What the caller can do about it.
        hint: &'static str,
    },

    /// See [`ErrorKind::Corrupt`].
    #[error("damaged {format} file: {what}")]
    Corrupt {
        /// The format the bytes claim to be.
        format: Format,
        /// What is broken, in a few words.
        what: String,
    },

    /// See [`ErrorKind::TooLarge`].
    #[error("{}", describe_limit(*.limit, *.actual, *.max))]
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// The value found.
        actual: u64,
        /// The largest value allowed.
        max: u64,
    },

    /// See [`ErrorKind::Undecodable`].
    #[error("{format} variant this build cannot decode ({detail}), so it can be neither passed through nor converted into a form the API reads")]
    Undecodable {
        /// The format.
        format: Format,
        /// The variant (compression, colour type, …) and where it was found.
        detail: String,
    },

    /// See [`ErrorKind::ResourceLimit`].
    #[error("{what} (a limit of this tool, not a fault in the file)")]
    ResourceLimit {
        /// What ran out or which limit was hit, with the numbers.
        what: String,
    },

    /// See [`ErrorKind::Internal`].
    #[error("internal error: {0} (a bug in this tool, not a fault in the file)")]
    Internal(String),

    /// See [`ErrorKind::Io`].
    #[error("{context}: {source}")]
    Io {
        /// What we were doing (usually the path).
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// See [`ErrorKind::Config`].
    #[error("invalid configuration: {0}")]
    Config(String),

    /// See [`ErrorKind::Unauthorized`]. Never carries the key itself.
    #[error(
        "the API refused the key (HTTP 401: {detail}); it is wrong or was deleted: check {env_var}"
    )]
    Unauthorized {
        /// The server's detail text.
        detail: String,
        /// The environment variable that holds the key.
        env_var: &'static str,
    },

    /// See [`ErrorKind::Api`].
    #[error("{0}")]
    Api(Box<ApiProblem>),

    /// See [`ErrorKind::RateLimited`].
    #[error("the API kept answering 429 Too Many Requests after {attempts} attempts")]
    RateLimited {
        /// How many requests were sent.
        attempts: u32,
    },

    /// See [`ErrorKind::Timeout`].
    #[error("timed out: {0}")]
    Timeout(String),

    /// See [`ErrorKind::Network`].
    #[error("network error: {0}")]
    Network(String),

    /// See [`ErrorKind::JobFailed`].
    #[error("the API could not process the file: {0}")]
    JobFailed(Box<ApiProblem>),
}

/// An RFC 9457 problem returned by the API, or the gist of a non-JSON error answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiProblem {
    /// HTTP status.
    pub status: u16,
    /// The API's `NNN-NNN` code, when given.
    pub code: Option<String>,
    /// Short title.
    pub title: Option<String>,
    /// Longer explanation (or an excerpt of a non-JSON body).
    pub detail: Option<String>,
    /// JSON pointers to the offending request fields (`#/model_id`), with their details.
    pub pointers: Vec<(String, String)>,
}

impl fmt::Display for ApiProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(title) = &self.title {
            write!(f, " {title}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for (pointer, detail) in &self.pointers {
            write!(f, "; {pointer}: {detail}")?;
        }
        Ok(())
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::EmptyFile => ErrorKind::EmptyFile,
            Error::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Error::AnimatedImage { .. } => ErrorKind::AnimatedImage,
            Error::EncryptedPdf { .. } => ErrorKind::EncryptedPdf,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Undecodable { .. } => ErrorKind::Undecodable,
            Error::ResourceLimit { .. } => ErrorKind::ResourceLimit,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Io { .. } => ErrorKind::Io,
            Error::Config(_) => ErrorKind::Config,
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::Api(_) => ErrorKind::Api,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Network(_) => ErrorKind::Network,
            Error::JobFailed(_) => ErrorKind::JobFailed,
        }
    }

    /// The format the refused file was found to be, lowercase (`"webp"`, `"gif"`), when known.
    pub fn format_name(&self) -> Option<String> {
        match self {
            Error::UnsupportedFormat { format } => Some(format.to_lowercase()),
            Error::AnimatedImage { format, .. }
            | Error::Corrupt { format, .. }
            | Error::Undecodable { format, .. } => Some(format.name().to_string()),
            Error::EncryptedPdf { .. } => Some(Format::Pdf.name().to_string()),
            _ => None,
        }
    }

    /// Shorthand for [`Error::Corrupt`].
    pub(crate) fn corrupt(format: Format, what: impl Into<String>) -> Self {
        Error::Corrupt {
            format,
            what: what.into(),
        }
    }

    /// An encoder (ours or a library's) failed on pixels that decoded fine: our limit, not
    /// damage in the file.
    pub(crate) fn encoder(format: Format, e: impl fmt::Display) -> Self {
        Error::ResourceLimit {
            what: format!("the {format} encoder failed: {e}"),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

fn describe_animation(format: Format, frames: Option<u32>) -> String {
    let name = match format {
        Format::Png => "animated PNG (APNG)",
        Format::Webp => "animated WebP",
        Format::Heif | Format::Heic => "HEIF image sequence",
        _ => "animated image",
    };
    match frames {
        Some(n) => format!("{name} ({n} frames)"),
        None => name.to_string(),
    }
}

fn describe_limit(limit: Limit, actual: u64, max: u64) -> String {
    match limit {
        Limit::Pixels => format!(
            "image of {:.1} MP is over the limit of {:.1} MP",
            actual as f64 / 1e6,
            max as f64 / 1e6
        ),
        Limit::Bytes => format!(
            "file of {actual} bytes is over the limit of {max} bytes (the API takes at most 100 MB)"
        ),
        Limit::Pages => format!("document of {actual} pages is over the limit of {max} pages"),
        Limit::Memory => format!(
            "preparing it needs about {} MiB of memory, over the {} MiB one file may use (--max-memory less 48 MiB for the process)",
            actual.div_ceil(1 << 20),
            max >> 20
        ),
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
