//! Still WebP through the `image` crate (`image-webp`): lossy and lossless, with alpha.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::{DynamicImage, ImageDecoder};

use super::{from_dynamic, image_error, image_limits};
use crate::error::Result;
use crate::format::Format;
use crate::pixels::Pixels;

pub(crate) fn decode(data: &[u8], width: u32, height: u32, limit_pixels: u64) -> Result<Pixels> {
    let err = |e| image_error(Format::Webp, e);
    let mut decoder = WebPDecoder::new(Cursor::new(data)).map_err(err)?;
    decoder
        .set_limits(image_limits(width, height, limit_pixels)?)
        .map_err(err)?;
    Ok(from_dynamic(
        DynamicImage::from_decoder(decoder).map_err(err)?,
    ))
}
