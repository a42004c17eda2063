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
        .map_err(|e| Error::encoder(Format::Png, e))?;
    Ok(out)
}

/// The file without the text and ICC chunks that careful decoders refuse (see
/// [`crate::detect::png`]'s limits); every other chunk, and anything after IEND, byte for byte.
pub(crate) fn strip_bombs(data: &[u8]) -> Result<Vec<u8>> {
    use crate::detect::png::{chunks, TextBudget};
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..8]);
    let mut budget = TextBudget::default();
    let mut end = 8;
    for chunk in chunks(data) {
        let chunk = chunk.map_err(|what| Error::corrupt(Format::Png, what))?;
        end = chunk.end();
        if !budget.take(&chunk) {
            out.extend_from_slice(&data[chunk.start..end]);
        }
    }
    out.extend_from_slice(&data[end..]);
    Ok(out)
}
