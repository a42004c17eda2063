//! PNG through the `image` crate (which wraps `png`): 16-bit to 8-bit, palette expanded,
//! alpha kept.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::ImageEncoder;

use super::decode_with_image;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::pixels::Pixels;

pub(crate) fn decode(data: &[u8], width: u32, height: u32, limit_pixels: u64) -> Result<Pixels> {
    let decoder = PngDecoder::new(Cursor::new(data));
    decode_with_image(Format::Png, decoder, (width, height), limit_pixels)
}

/// Encodes with adaptive filtering and zlib's default level: the balance between size on the
/// wire and encoding time for screenshots and scans.
pub(crate) fn encode(pixels: &Pixels) -> Result<Vec<u8>> {
    let color = match pixels.channels() {
        1 => image::ExtendedColorType::L8,
        2 => image::ExtendedColorType::La8,
        3 => image::ExtendedColorType::Rgb8,
        _ => image::ExtendedColorType::Rgba8,
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(pixels.data(), pixels.width(), pixels.height(), color)
        .map_err(|e| Error::corrupt(Format::Png, format!("encoder: {e}")))?;
    Ok(out)
}
