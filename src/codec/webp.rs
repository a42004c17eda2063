//! Still WebP through the `image` crate (`image-webp`): lossy and lossless, with alpha.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;

use super::decode_with_image;
use crate::error::Result;
use crate::format::Format;
use crate::pixels::Pixels;

pub(crate) fn decode(data: &[u8], width: u32, height: u32, limit_pixels: u64) -> Result<Pixels> {
    let decoder = WebPDecoder::new(Cursor::new(data));
    decode_with_image(Format::Webp, decoder, (width, height), limit_pixels)
}
