//! Downscaling with fast_image_resize (SIMD: AVX2 / SSE4.1 / NEON, picked at run time).
//!
//! Filter: **Lanczos3**. Documents are mostly text, and the last step from a DCT-scaled decode
//! (at most 2× per side) or a full decode (up to ~2.5×) must keep thin strokes crisp.
//! Compared on what matters here, OCR of small text after a 2.45× shrink
//! (`scripts/compare_filters_ocr.py`: tesseract 5, 6 pages per size, Pillow's identical
//! kernels), Lanczos3 read 15.7 / 40.2 / 33.9 / 50.6 % of the characters at 9 / 10 / 11 / 12 px
//! against CatmullRom's 12.3 / 34.6 / 36.2 / 48.5 %: ahead at three sizes of four, by a small
//! margin. It costs about 1.3× CatmullRom (28 vs 21 ms for 24 → 4 MP on two cores,
//! `imaging-notes.md` §A.4), which is small next to decoding. Alpha is premultiplied during
//! the resize (fast_image_resize does it for RGBA and gray+alpha), so transparent pixels never
//! bleed their colour into opaque neighbours.

mod banded;

pub use banded::resize_rows;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::pixels::Pixels;

/// The filter every downscale uses; see the module documentation for why.
pub const FILTER: FilterType = FilterType::Lanczos3;

fn pixel_type(channels: u8) -> PixelType {
    match channels {
        1 => PixelType::U8,
        2 => PixelType::U8x2,
        3 => PixelType::U8x3,
        _ => PixelType::U8x4,
    }
}

/// Scales `pixels` to exactly `width` × `height` with [`FILTER`].
///
/// Returns the input unchanged when it already has that size.
///
/// ```
/// use mindee_prep::{resize::resize, Pixels};
/// let src = Pixels::new(400, 300, 3, vec![128; 400 * 300 * 3]).unwrap();
/// let out = resize(src, 200, 150);
/// assert_eq!((out.width(), out.height()), (200, 150));
/// assert!(out.data().iter().all(|&v| v == 128)); // a flat image stays flat
/// ```
pub fn resize(pixels: Pixels, width: u32, height: u32) -> Pixels {
    resize_with(pixels, width, height, FILTER)
}

/// [`resize`] with a chosen filter (benchmarks and filter comparisons use this).
pub fn resize_with(pixels: Pixels, width: u32, height: u32, filter: FilterType) -> Pixels {
    if (pixels.width(), pixels.height()) == (width, height) || width == 0 || height == 0 {
        return pixels;
    }
    let channels = pixels.channels();
    let kind = pixel_type(channels);
    let (sw, sh) = (pixels.width(), pixels.height());
    let src = match Image::from_vec_u8(sw, sh, pixels.into_data(), kind) {
        Ok(image) => image,
        // u8 buffers are always aligned and Pixels guarantees the length.
        Err(_) => unreachable!("Pixels always holds width × height × channels bytes"),
    };
    let mut dst = Image::new(width, height, kind);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
    let mut resizer = Resizer::new();
    if resizer.resize(&src, &mut dst, &options).is_err() {
        unreachable!("source and destination have the same pixel type and non-zero sizes");
    }
    Pixels::from_parts(width, height, channels, dst.into_vec())
}
