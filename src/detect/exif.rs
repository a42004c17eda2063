//! EXIF blocks (JPEG APP1, WebP `EXIF` chunk): only the orientation is read.

use super::tiff::first_ifd_orientation;
use crate::orientation::Orientation;

/// Orientation from an EXIF payload, with or without the `Exif\0\0` prefix that JPEG uses
/// (and that some WebP writers copy along).
pub(crate) fn orientation(payload: &[u8]) -> Orientation {
    let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
    first_ifd_orientation(tiff)
        .map(Orientation::from_exif)
        .unwrap_or_default()
}
