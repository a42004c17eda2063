//! The one options struct for preparing files.

use crate::encoding::OutputFormat;
use crate::error::{Error, Result};

/// How to prepare files. Every field documents its default; `PrepareOptions::default()` is what
/// the API's guidelines recommend.
///
/// ```
/// use mindee_prep::PrepareOptions;
/// let opts = PrepareOptions { target_megapixels: 3.5, ..PrepareOptions::default() };
/// assert!(opts.validate().is_ok());
/// let bad = PrepareOptions { target_megapixels: 6.0, ..PrepareOptions::default() };
/// assert!(bad.validate().is_err()); // the target must not exceed the maximum
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PrepareOptions {
    /// Images (and TIFF pages, PDF images) of at most this many megapixels pass through
    /// untouched. Default: `5.0`.
    pub max_megapixels: f64,
    /// Larger ones are scaled to about this many megapixels, the same factor on both axes,
    /// never up. Default: `4.0`. Bilevel images (fax and 1-bit TIFF pages, 1-bit PNGs) go to
    /// 98 % of `max_megapixels` instead: written as CCITT G4 or 1-bit PNG they cost a tenth
    /// of grey, and their thin strokes need the pixels to stay legible once binarised.
    pub target_megapixels: f64,
    /// JPEG quality (1–100) for re-encoded images. Default: `85`.
    pub jpeg_quality: u8,
    /// Images whose header declares more megapixels than this are refused with `too_large`
    /// before any pixel is allocated. Default: `300.0` (a 200 MP phone photo works).
    pub max_input_megapixels: f64,
    /// Files larger than this (after preparation) are refused with `too_large`: the API takes
    /// at most 100 MB. Default: `100_000_000`.
    pub max_output_bytes: u64,
    /// Password to open an encrypted PDF with; the output is saved without encryption.
    /// Default: `None`.
    pub pdf_password: Option<String>,
    /// Which PDF pages to send, like the official SDKs' page options. Default: `None` (all).
    pub pdf_pages: Option<PageSelection>,
    /// The format of re-encoded single images: chosen by content, or always JPEG / PNG, or the
    /// input's own. Default: [`OutputFormat::Auto`].
    pub output_format: OutputFormat,
    /// Memory, in bytes, that preparing may use: one file whose work is estimated to need more
    /// is refused with `too_large` before anything is allocated, and a batch
    /// ([`prepare_batch`](crate::prepare_batch)) admits files only while their estimates,
    /// plus a 48 MiB reserve for the process itself, fit in it together (see
    /// [`memory`](crate::memory)). Default: `2 << 30` (2 GiB: a 200 MP HEIC photo, decoded
    /// whole by libheif, peaks at about 1.2 GiB).
    pub max_memory: u64,
}

/// What a [`PageSelection`] does with the pages it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOperation {
    /// Keep only the listed pages, in document order.
    KeepOnly,
    /// Remove the listed pages.
    Remove,
}

/// Keep or remove PDF pages by 0-based index, negative indexes counting from the end
/// (`-1` is the last page), applied only to documents of at least `min_pages` pages.
/// Indexes past either end are ignored; a selection that leaves no page is an error.
///
/// ```
/// use mindee_prep::{PageOperation, PageSelection};
/// let first_and_last = PageSelection { indexes: vec![0, -1], operation: PageOperation::KeepOnly, min_pages: 0 };
/// assert_eq!(first_and_last.select(5).unwrap(), Some(vec![0, 4]));
/// let short = PageSelection { min_pages: 6, ..first_and_last.clone() };
/// assert_eq!(short.select(5).unwrap(), None); // too few pages: left alone
/// let drop_all = PageSelection { indexes: vec![0], operation: PageOperation::Remove, min_pages: 0 };
/// assert!(drop_all.select(1).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSelection {
    /// 0-based page indexes; negative ones count from the end.
    pub indexes: Vec<i64>,
    /// Keep only these pages, or remove them.
    pub operation: PageOperation,
    /// Apply only when the document has at least this many pages (0: always).
    pub min_pages: u32,
}

impl PageSelection {
    /// The 0-based pages to keep out of `count`, or `None` when the selection does not apply
    /// (fewer than `min_pages` pages) or keeps every page.
    pub fn select(&self, count: u32) -> Result<Option<Vec<u32>>> {
        if count < self.min_pages {
            return Ok(None);
        }
        let listed: std::collections::BTreeSet<u32> = self
            .indexes
            .iter()
            .filter_map(|&i| {
                let i = if i < 0 { i64::from(count) + i } else { i };
                u32::try_from(i).ok().filter(|&i| i < count)
            })
            .collect();
        let keep: Vec<u32> = (0..count)
            .filter(|i| listed.contains(i) == (self.operation == PageOperation::KeepOnly))
            .collect();
        if keep.is_empty() {
            return Err(Error::Config(format!(
                "the page selection leaves none of the {count} pages"
            )));
        }
        Ok((keep.len() as u32 != count).then_some(keep))
    }
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            max_megapixels: 5.0,
            target_megapixels: 4.0,
            jpeg_quality: 85,
            max_input_megapixels: 300.0,
            max_output_bytes: 100_000_000,
            pdf_password: None,
            pdf_pages: None,
            output_format: OutputFormat::Auto,
            max_memory: 2 << 30,
        }
    }
}

impl PrepareOptions {
    /// Checks that the numbers make sense together.
    pub fn validate(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.max_megapixels) || !positive(self.target_megapixels) {
            return Err(Error::Config(
                "--max-mp and --target-mp must be positive numbers".into(),
            ));
        }
        if self.target_megapixels > self.max_megapixels {
            return Err(Error::Config(format!(
                "--target-mp ({}) must not exceed --max-mp ({})",
                self.target_megapixels, self.max_megapixels
            )));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(Error::Config(format!(
                "--quality must be between 1 and 100, not {}",
                self.jpeg_quality
            )));
        }
        if !positive(self.max_input_megapixels) {
            return Err(Error::Config(
                "the input pixel limit must be positive".into(),
            ));
        }
        if self.max_memory < 64 << 20 {
            return Err(Error::Config(format!(
                "--max-memory must be at least 64 MiB, not {} bytes",
                self.max_memory
            )));
        }
        Ok(())
    }

    pub(crate) fn max_pixels(&self) -> u64 {
        (self.max_megapixels * 1e6) as u64
    }

    pub(crate) fn target_pixels(&self) -> u64 {
        (self.target_megapixels * 1e6) as u64
    }

    /// The size bilevel images are scaled to: just under the maximum (rounding each side
    /// moves the area by well under 1 %), never below the target.
    pub(crate) fn bilevel_target_pixels(&self) -> u64 {
        ((self.max_pixels() as f64 * 0.98) as u64).max(self.target_pixels())
    }

    pub(crate) fn max_input_pixels(&self) -> u64 {
        (self.max_input_megapixels * 1e6) as u64
    }
}
