//! HEIC / HEIF through libheif (1.23, built from source by `libheif-sys`; HEVC by libde265).
//!
//! libheif applies the file's own transformations (`irot`, `imir`, `clap`) while decoding, so
//! the pixels come out upright. Apple also writes an EXIF Orientation equal to the `irot`; per
//! the HEIF spec that copy is informational, and it is never applied on top (that would turn
//! the picture twice). Grid images (48 tiles on iPhones) are decoded by libheif's own worker
//! threads: one per core for a lone file, one per file when a batch runs a file per core.

use libheif_rs::{
    ColorSpace, DecodingOptions, HeifContext, HeifError, HeifErrorCode, LibHeif, RgbChroma,
    SecurityLimits,
};

use crate::error::{Error, Limit, Result};
use crate::format::Format;
use crate::pixels::Pixels;

/// libheif's error, by its code: a coding or feature libheif lacks is `undecodable`, running
/// out of memory is ours (`resource_limit`), the rest is damage in the file.
fn corrupt(format: Format, e: HeifError) -> Error {
    let message = e.message.trim().to_string();
    match e.code {
        HeifErrorCode::UnsupportedFeature
        | HeifErrorCode::UnsupportedFileType
        | HeifErrorCode::PluginLoadingError => Error::Undecodable {
            format,
            detail: message,
        },
        HeifErrorCode::MemoryAllocationError => Error::ResourceLimit {
            what: format!("decoding the {format} image: {message}"),
        },
        _ => Error::corrupt(format, message),
    }
}

/// Decodes the primary image, upright, as 8-bit gray, RGB or RGBA.
///
/// `limit_pixels` bounds what libheif may allocate for any image in the file (its own security
/// limits stay on, only this one is tightened to ours). libheif decodes grid tiles on
/// `threads` threads of its own: every core for a lone file, fewer when a batch already runs
/// a file per core (so its threads and rayon's are not multiplied).
pub(crate) fn decode(
    data: &[u8],
    format: Format,
    limit_pixels: u64,
    threads: u32,
) -> Result<Pixels> {
    let err = |e| corrupt(format, e);
    let lib = LibHeif::new();
    let mut context = HeifContext::new().map_err(err)?;
    let mut limits = SecurityLimits::new();
    limits.set_max_image_size_pixels(limit_pixels);
    context.set_security_limits(&limits).map_err(err)?;
    context.read_bytes(data).map_err(err)?;
    let threads = threads.max(1);
    context.set_max_decoding_threads(threads);

    let handle = context.primary_image_handle().map_err(err)?;
    let pixels = u64::from(handle.width()) * u64::from(handle.height());
    if pixels > limit_pixels {
        return Err(Error::TooLarge {
            limit: Limit::Pixels,
            actual: pixels,
            max: limit_pixels,
        });
    }
    let alpha = handle.has_alpha_channel();
    let monochrome = !alpha
        && matches!(
            handle.preferred_decoding_colorspace(),
            Ok(ColorSpace::Monochrome)
        );
    let (color_space, channels) = match (monochrome, alpha) {
        (true, _) => (ColorSpace::Monochrome, 1u8),
        (false, true) => (ColorSpace::Rgb(RgbChroma::Rgba), 4),
        (false, false) => (ColorSpace::Rgb(RgbChroma::Rgb), 3),
    };
    let mut options = DecodingOptions::new();
    if let Some(options) = options.as_mut() {
        options.set_convert_hdr_to_8bit(true); // 10- and 12-bit images become 8-bit
        options.set_num_library_threads(threads);
    }
    let image = lib.decode(&handle, color_space, options).map_err(err)?;
    let planes = image.planes();
    let plane = if monochrome {
        planes.y
    } else {
        planes.interleaved
    };
    let plane = plane.ok_or_else(|| Error::corrupt(format, "the decoder returned no pixels"))?;
    if plane.storage_bits_per_pixel != 8 * channels {
        return Err(Error::Undecodable {
            format,
            detail: format!(
                "{} bits per pixel after 8-bit conversion",
                plane.storage_bits_per_pixel
            ),
        });
    }
    // Rows are padded to `stride`; copy them tight.
    let (width, height) = (plane.width as usize, plane.height as usize);
    let row = width * channels as usize;
    let mut out = Vec::with_capacity(row * height);
    for y in 0..height {
        let start = y * plane.stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| Error::corrupt(format, "decoded rows shorter than the image"))?;
        out.extend_from_slice(line);
    }
    Ok(Pixels::from_parts(plane.width, plane.height, channels, out))
}
