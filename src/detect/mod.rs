//! Format detection from the bytes alone: no file names, no pixel decoding.
//!
//! Each accepted format has its own module that reads just enough of the header to say what the
//! file is, how big it is, how many pages or frames it has and which way is up. Every read is
//! bounds-checked: a truncated or lying header gives [`Error::Corrupt`], never a panic.

mod bytes;
mod exif;
mod heif;
pub(crate) mod jpeg;
mod other;
mod pdf;
pub(crate) mod png;
pub(crate) mod tiff;
mod webp;

use serde::Serialize;

pub use self::tiff::TiffPage;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;

/// What detection found in a file of an accepted format.
///
/// ```
/// let bytes = std::fs::read("fixtures/jpeg/small_2mp.jpg").unwrap();
/// let found = mindee_prep::detect(&bytes).unwrap();
/// assert_eq!(found.format, mindee_prep::Format::Jpeg);
/// assert_eq!((found.width, found.height), (1600, 1200));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detected {
    /// The format.
    pub format: Format,
    /// Width of the first page or primary image as stored, in pixels (0 when unknown, e.g. PDF).
    pub width: u32,
    /// Height of the first page or primary image as stored, in pixels (0 when unknown).
    pub height: u32,
    /// Pages (TIFF, PDF) or 1 for single images.
    pub pages: u32,
    /// Frames, when the file is animated (APNG, animated WebP, HEIF sequence).
    pub frames: Option<u32>,
    /// True when the file is an animation or image sequence (the API refuses those).
    pub animated: bool,
    /// Which way is up, from EXIF (JPEG, WebP, TIFF) or `irot`/`imir` (HEIF).
    pub orientation: Orientation,
    /// Format-specific facts.
    pub details: Details,
}

impl Detected {
    /// Pixels in the largest page or image, as stored.
    pub fn max_page_pixels(&self) -> u64 {
        match &self.details {
            Details::Tiff(t) => t
                .pages
                .iter()
                .map(|p| u64::from(p.width) * u64::from(p.height))
                .max()
                .unwrap_or(0),
            _ => u64::from(self.width) * u64::from(self.height),
        }
    }

    /// The reason the API would refuse this file, if it would (animation), judged from the
    /// header. Encryption is not refused here: a PDF that opens with the empty password is
    /// decrypted by [`prepare`](crate::prepare), so only the PDF codec can tell.
    pub fn refusal(&self) -> Option<Error> {
        if self.animated {
            return Some(Error::AnimatedImage {
                format: self.format,
                frames: self.frames,
            });
        }
        None
    }
}

/// Format-specific facts from the header.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Details {
    /// See [`JpegInfo`].
    Jpeg(JpegInfo),
    /// See [`PngInfo`].
    Png(PngInfo),
    /// See [`WebpInfo`].
    Webp(WebpInfo),
    /// See [`HeifInfo`].
    Heif(HeifInfo),
    /// See [`TiffInfo`].
    Tiff(TiffInfo),
    /// See [`PdfInfo`].
    Pdf(PdfInfo),
}

/// JPEG header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JpegInfo {
    /// Colour components: 1 (gray), 3 (YCbCr/RGB) or 4 (CMYK/YCCK).
    pub components: u8,
    /// Progressive (SOF2/SOF6/…) rather than baseline/sequential.
    pub progressive: bool,
    /// The Adobe APP14 colour transform byte, when an Adobe marker is present
    /// (0 = none/CMYK, 1 = YCbCr, 2 = YCCK).
    pub adobe_transform: Option<u8>,
    /// Bits per sample (8 for nearly every file; 12 and 16 exist).
    pub precision: u8,
    /// Arithmetic entropy coding (SOF9–SOF15) rather than Huffman.
    pub arithmetic: bool,
    /// Lossless process (SOF3, SOF7, SOF11, SOF15).
    pub lossless: bool,
    /// Hierarchical (differential) process (SOF5–SOF7, SOF13–SOF15), which libjpeg cannot read.
    pub hierarchical: bool,
    /// Bytes before the first scan where a marker was due: libjpeg skips them with a "corrupt
    /// JPEG data: N extraneous bytes before marker" warning, strict decoders refuse the file.
    pub extraneous_bytes: u64,
}

#[cfg(test)]
impl JpegInfo {
    /// An 8-bit baseline Huffman colour JPEG: what tests vary one field of.
    pub(crate) fn baseline() -> Self {
        JpegInfo {
            components: 3,
            progressive: false,
            adobe_transform: None,
            precision: 8,
            arithmetic: false,
            lossless: false,
            hierarchical: false,
            extraneous_bytes: 0,
        }
    }
}

/// PNG header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PngInfo {
    /// Bits per sample: 1, 2, 4, 8 or 16.
    pub bit_depth: u8,
    /// PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    pub color_type: u8,
    /// The first critical chunk (IHDR, PLTE, IDAT) whose CRC does not match its bytes.
    pub bad_crc: Option<String>,
    /// An ancillary chunk that careful decoders refuse (a compressed-text or ICC decompression
    /// bomb), described.
    pub bomb: Option<String>,
}

/// WebP header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebpInfo {
    /// Lossless (`VP8L`) rather than lossy (`VP8 `).
    pub lossless: bool,
    /// Has an alpha channel.
    pub alpha: bool,
    /// Extended format (`VP8X`).
    pub extended: bool,
}

/// HEIF / HEIC header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeifInfo {
    /// The major brand from `ftyp`.
    pub major_brand: String,
    /// The compatible brands from `ftyp`.
    pub compatible_brands: Vec<String>,
    /// The coding of the primary item (`hvc1`, `grid`, `av01`, …), when found.
    pub primary_item_type: Option<String>,
    /// Has a still primary item (`pitm`), as opposed to only a track.
    pub has_primary_item: bool,
    /// Has tracks (`moov`): an image sequence or a video beside the still image.
    pub tracks: bool,
    /// Top-level images besides the primary (a burst or a collection): not thumbnails,
    /// auxiliary images, hidden items or the tiles of a grid.
    pub other_images: u32,
}

/// TIFF header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TiffInfo {
    /// BigTIFF (64-bit offsets).
    pub bigtiff: bool,
    /// One entry per page (reduced-resolution subfiles are not pages).
    pub pages: Vec<TiffPage>,
}

/// PDF header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdfInfo {
    /// The version from the header (`1.7`).
    pub version: String,
    /// Bytes before `%PDF-` (junk from mail gateways or phones); 0 for a clean file.
    pub header_offset: usize,
    /// The file names an `/Encrypt` dictionary. Whether it needs a password is only known
    /// once the PDF codec opens it.
    pub encrypted: bool,
}

/// Looks at the bytes and says what they are.
///
/// Returns [`Error::EmptyFile`] for no bytes, [`Error::UnsupportedFormat`] naming the format for
/// files the API does not accept (GIF, BMP, AVIF, …), and [`Error::Corrupt`] when the header of an
/// accepted format is damaged. Animated images and encrypted PDFs are detected, not refused:
/// see [`Detected::refusal`] and [`PdfInfo::encrypted`].
///
/// ```
/// let err = mindee_prep::detect(b"GIF89a\x01\x00\x01\x00").unwrap_err();
/// assert_eq!(err.kind(), mindee_prep::ErrorKind::UnsupportedFormat);
/// assert!(err.to_string().starts_with("GIF"));
/// ```
pub fn detect(data: &[u8]) -> Result<Detected> {
    if data.is_empty() {
        return Err(Error::EmptyFile);
    }
    if data.starts_with(&[0xFF, 0xD8]) {
        return jpeg::detect(data);
    }
    if data.starts_with(png::SIGNATURE) {
        return png::detect(data);
    }
    if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return webp::detect(data);
    }
    if data.len() >= 8 && &data[4..8] == b"ftyp" {
        return heif::detect(data);
    }
    if tiff::has_signature(data) {
        return tiff::detect(data);
    }
    if let Some(offset) = pdf::header_offset(data) {
        return pdf::detect(data, offset);
    }
    Err(Error::UnsupportedFormat {
        format: other::name(data).to_string(),
    })
}
