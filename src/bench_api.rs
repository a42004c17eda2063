//! The codec calls that ship, for `benches/` only: benchmarks time these instead of copies of
//! their settings. Not a stable API (hidden from the documentation); every function panics on
//! bad input, which a benchmark wants.

use crate::codec;
use crate::detect::{detect, Details};
use crate::orientation::Orientation;
use crate::pixels::Pixels;

/// Header size of a JPEG.
fn jpeg_size(data: &[u8]) -> (u32, u32) {
    let found = detect(data).expect("a JPEG");
    assert!(matches!(found.details, Details::Jpeg(_)), "a JPEG");
    (found.width, found.height)
}

/// The DCT scale denominator `prepare` decodes a `size` JPEG at on its way to `target`
/// (`MIN_FILTER_SHRINK`'s rule).
pub fn jpeg_decode_denominator(size: (u32, u32), target: (u32, u32)) -> u32 {
    codec::jpeg::decode_denominator(size, target)
}

/// The whole streamed JPEG → JPEG downscale `prepare` runs for a gray or colour JPEG: libjpeg
/// scanline decode at the DCT scale it picks, banded Lanczos3, scanline encode at `quality`.
pub fn jpeg_downscale(data: &[u8], target: (u32, u32), quality: u8) -> Vec<u8> {
    codec::jpeg::downscale(
        data,
        jpeg_size(data),
        target,
        Orientation::Normal,
        quality,
        0,
    )
    .expect("decodes")
    .expect("gray or colour")
    .bytes
}

/// The scanline decoder alone, every row of the image at 1/`denominator` scale.
pub fn jpeg_decode_rows(data: &[u8], denominator: u32) -> Pixels {
    codec::jpeg::decode_rows(data, denominator).expect("decodes")
}

/// The scanline encoder alone (`encode_scaled` at the image's own size: no resize), as the
/// downscale paths write their output.
pub fn jpeg_encode_rows(pixels: &Pixels, quality: u8) -> Vec<u8> {
    let size = (pixels.width(), pixels.height());
    codec::jpeg::encode_scaled(pixels, size, quality)
        .expect("encodes")
        .bytes
}

/// The whole-image JPEG encoder (TurboJPEG), which `prepare` uses after a turn or for
/// converted images.
pub fn jpeg_encode_whole(pixels: Pixels, quality: u8) -> Vec<u8> {
    codec::jpeg::encode(pixels, quality).expect("encodes")
}

/// Decodes a PNG, WebP or HEIF as `prepare` does (HEIF with `threads` libheif threads).
pub fn decode_whole(data: &[u8], threads: u32) -> Pixels {
    let found = detect(data).expect("detects");
    let (w, h) = (found.width, found.height);
    let limit = crate::PrepareOptions::default().max_input_pixels();
    match found.details {
        Details::Png(_) => codec::png::decode(data, w, h, limit),
        Details::Webp(_) => codec::webp::decode(data, w, h, limit),
        Details::Heif(_) => codec::heif::decode(data, found.format, limit, threads),
        _ => panic!("PNG, WebP or HEIF only"),
    }
    .expect("decodes")
}

/// The PNG encoder `prepare` uses.
pub fn png_encode(pixels: &Pixels) -> Vec<u8> {
    codec::png::encode(pixels).expect("encodes")
}
