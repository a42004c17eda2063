//! Decoders and encoders, one module per format. Each turns bytes into [`Pixels`] (already
//! reduced where the codec can shrink on load) and [`Pixels`] back into bytes.

pub(crate) mod heif;
pub(crate) mod jpeg;
pub(crate) mod pdf;
pub(crate) mod png;
pub(crate) mod tiff;
pub(crate) mod webp;

use crate::encoding::Encoding;
use crate::error::{Error, Limit, Result};
use crate::format::Format;
use crate::pixels::Pixels;

/// An encoded image and its (upright) size.
pub(crate) struct Encoded {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Encodes `pixels` as `encoding` (the single-image ones: JPEG, PNG, palette PNG).
pub(crate) fn encode(pixels: &Pixels, encoding: Encoding) -> Result<Vec<u8>> {
    match encoding {
        Encoding::Png => png::encode(pixels),
        Encoding::PngPalette => png::encode_palette(pixels),
        Encoding::Jpeg(quality) => jpeg::encode(pixels.clone().flatten_on_white(), quality),
        other => Err(Error::ResourceLimit {
            what: format!("{} is for TIFF pages, not single images", other.name()),
        }),
    }
}

/// The allocation a decoder may make for `pixels` samples of up to 8 bytes (16-bit RGBA).
pub(crate) fn decode_allowance(pixels: u64, limit_pixels: u64) -> Result<u64> {
    if pixels > limit_pixels {
        return Err(Error::TooLarge {
            limit: Limit::Pixels,
            actual: pixels,
            max: limit_pixels,
        });
    }
    Ok(pixels.saturating_mul(8).saturating_add(64 << 20))
}

/// Converts a decoded `image` crate picture to 8-bit [`Pixels`], keeping gray as gray and
/// dropping an alpha channel that is fully opaque (smaller output, same picture).
pub(crate) fn from_dynamic(image: image::DynamicImage) -> Pixels {
    use image::DynamicImage as D;
    let (w, h) = (image.width(), image.height());
    let pixels = match image {
        D::ImageLuma8(b) => Pixels::from_parts(w, h, 1, b.into_raw()),
        D::ImageLumaA8(b) => Pixels::from_parts(w, h, 2, b.into_raw()),
        D::ImageRgb8(b) => Pixels::from_parts(w, h, 3, b.into_raw()),
        D::ImageRgba8(b) => Pixels::from_parts(w, h, 4, b.into_raw()),
        other if other.color().has_color() => {
            if other.color().has_alpha() {
                Pixels::from_parts(w, h, 4, other.into_rgba8().into_raw())
            } else {
                Pixels::from_parts(w, h, 3, other.into_rgb8().into_raw())
            }
        }
        other if other.color().has_alpha() => {
            Pixels::from_parts(w, h, 2, other.into_luma_alpha8().into_raw())
        }
        other => Pixels::from_parts(w, h, 1, other.into_luma8().into_raw()),
    };
    drop_opaque_alpha(pixels)
}

fn drop_opaque_alpha(pixels: Pixels) -> Pixels {
    if !pixels.has_alpha() || !pixels.is_opaque() {
        return pixels;
    }
    let n = pixels.channels() as usize;
    let (w, h) = (pixels.width(), pixels.height());
    let data: Vec<u8> = pixels
        .data()
        .chunks_exact(n)
        .flat_map(|px| px[..n - 1].iter().copied())
        .collect();
    Pixels::from_parts(w, h, (n - 1) as u8, data)
}

/// Runs one of the `image` crate's decoders under our limits and converts the result.
pub(crate) fn decode_with_image<D: image::ImageDecoder>(
    format: Format,
    decoder: image::ImageResult<D>,
    (width, height): (u32, u32),
    limit_pixels: u64,
) -> Result<Pixels> {
    let err = |e| image_error(format, e);
    let mut decoder = decoder.map_err(err)?;
    decoder
        .set_limits(image_limits(width, height, limit_pixels)?)
        .map_err(err)?;
    Ok(from_dynamic(
        image::DynamicImage::from_decoder(decoder).map_err(err)?,
    ))
}

/// Limits for the `image` crate's decoders: the header was already checked against the
/// options, this keeps the decoder itself from allocating more than that allows.
pub(crate) fn image_limits(width: u32, height: u32, limit_pixels: u64) -> Result<image::Limits> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(decode_allowance(
        u64::from(width) * u64::from(height),
        limit_pixels,
    )?);
    Ok(limits)
}

/// Maps an `image` crate error on decoding `format` to ours.
pub(crate) fn image_error(format: Format, e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(l)
            if matches!(l.kind(), image::error::LimitErrorKind::InsufficientMemory) =>
        {
            Error::ResourceLimit {
                what: format!("decoding the {format} image: {l}"),
            }
        }
        image::ImageError::Limits(l) => Error::corrupt(format, format!("decoder limit: {l}")),
        image::ImageError::Unsupported(u) => Error::Undecodable {
            format,
            detail: u.to_string(),
        },
        other => Error::corrupt(format, other.to_string()),
    }
}
