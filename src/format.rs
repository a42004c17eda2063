//! The file formats the API accepts.

use std::fmt;

use serde::Serialize;

/// A file format the Mindee API accepts, as found in the bytes (never from a file name).
///
/// ```
/// use mindee_prep::Format;
/// assert_eq!(Format::Jpeg.extension(), "jpg");
/// assert_eq!(Format::Heic.mime_type(), "image/heic");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// PDF document (single or multi-page).
    Pdf,
    /// JPEG (JFIF / EXIF) image.
    Jpeg,
    /// PNG image (not animated).
    Png,
    /// WebP image (not animated).
    Webp,
    /// HEIF with an HEVC-coded primary image (`heic`/`heix`… brands).
    Heic,
    /// Generic HEIF (`mif1` brand without an HEVC brand).
    Heif,
    /// TIFF or BigTIFF (single or multi-page).
    Tiff,
}

impl Format {
    /// The conventional file-name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Heic => "heic",
            Format::Heif => "heif",
            Format::Tiff => "tif",
        }
    }

    /// The MIME type to send with the file.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Heic => "image/heic",
            Format::Heif => "image/heif",
            Format::Tiff => "image/tiff",
        }
    }

    /// The lowercase name used in JSON output (`"jpeg"`, `"heic"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Heic => "heic",
            Format::Heif => "heif",
            Format::Tiff => "tiff",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pdf => "PDF",
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Heic => "HEIC",
            Format::Heif => "HEIF",
            Format::Tiff => "TIFF",
        })
    }
}
