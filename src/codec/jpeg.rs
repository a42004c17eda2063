//! JPEG through libjpeg-turbo 3 (`turbojpeg`): DCT-domain shrink on load, CMYK/YCCK to RGB,
//! and its fast SIMD encoder.

use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::geometry::jpeg_scale_denominator;
use crate::pixels::Pixels;

/// Progressive files with more scans than this are hostile: real encoders write about ten.
/// libjpeg-turbo's own guidance for untrusted input is to cap the scan count.
const MAX_SCANS: u32 = 500;

fn corrupt(e: turbojpeg::Error) -> Error {
    Error::corrupt(
        Format::Jpeg,
        e.to_string()
            .trim_start_matches("TurboJPEG error: ")
            .to_string(),
    )
}

/// How much of the shrink the Lanczos3 step must still do after a DCT-scaled decode (per axis).
///
/// libjpeg's scaled IDCT is a cruder low-pass than Lanczos3: left with little to do, the filter
/// cannot restore what the IDCT blurred. Measured with `make compare`'s reference (full decode,
/// float Lanczos3; `scripts/compare/compare.py`) on its 24 and 48 MP photos before encoding:
/// ½ decode leaving 1.22× for the filter (24 MP → 4 MP) gave 36.6 dB against 44.0 dB for a full
/// decode (33.7 vs 35.9 dB after q85); leaving 1.73× (48 MP → 4 MP) 41.0 vs 43.9 dB (35.1 vs
/// 35.6 after q85); leaving 2.45× 40.7 vs 41.5 dB. At 1.5× and above the loss stays under about
/// half a decibel after encoding, and the scaled decode still saves a quarter of the decode time.
/// libvips asks for 2× (`thumbnail.c`).
const MIN_FILTER_SHRINK: f64 = 1.5;

/// Decodes at the smallest DCT scale (1, 1/2, 1/4, 1/8) whose result is still at least
/// [`MIN_FILTER_SHRINK`] times `target` on both axes, so the final filter step stays a proper
/// resample. Gray stays gray; CMYK and YCCK come out as RGB.
pub(crate) fn decode(
    data: &[u8],
    size: (u32, u32),
    adobe: bool,
    target: (u32, u32),
) -> Result<Pixels> {
    let margin = |v: u32| (f64::from(v) * MIN_FILTER_SHRINK).ceil() as u32;
    let denominator = jpeg_scale_denominator(size, (margin(target.0), margin(target.1)));
    let mut decompressor = Decompressor::new().map_err(corrupt)?;
    decompressor
        .set_scaling_factor(ScalingFactor::new(1, denominator as usize))
        .map_err(corrupt)?;
    decompressor.set_scan_limit(MAX_SCANS).map_err(corrupt)?;
    let info = decompressor.read_header(data).map_err(corrupt)?;
    let scaled = info.scaled(decompressor.scaling_factor());
    let (width, height) = (scaled.width, scaled.height);
    let (format, channels) = match info.colorspace {
        Colorspace::Gray => (PixelFormat::GRAY, 1),
        Colorspace::CMYK | Colorspace::YCCK => (PixelFormat::CMYK, 4),
        _ => (PixelFormat::RGB, 3),
    };
    let mut pixels = vec![0u8; width * height * channels];
    decompressor
        .decompress(
            data,
            Image {
                pixels: pixels.as_mut_slice(),
                width,
                pitch: width * channels,
                height,
                format,
            },
        )
        .map_err(corrupt)?;
    let (w, h) = (width as u32, height as u32);
    if channels == 4 {
        // Photoshop (and every writer that adds an Adobe APP14 marker) stores CMYK inverted.
        return Ok(Pixels::from_parts(w, h, 3, cmyk_to_rgb(&pixels, adobe)));
    }
    Ok(Pixels::from_parts(w, h, channels as u8, pixels))
}

/// Naive CMYK → RGB (no ICC): R = (1 − C)(1 − K), which is what viewers without colour
/// management show. With `inverted` samples (Adobe), the stored value already is 1 − C.
pub(crate) fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let [c, m, y, k] = if inverted {
            [px[0], px[1], px[2], px[3]]
        } else {
            [255 - px[0], 255 - px[1], 255 - px[2], 255 - px[3]]
        };
        let k = u32::from(k);
        for v in [c, m, y] {
            rgb.push(((u32::from(v) * k + 127) / 255) as u8);
        }
    }
    rgb
}

/// Encodes 8-bit gray or RGB as a baseline JPEG (4:2:0 for colour), with no metadata at all:
/// the pixels are upright, so no orientation tag may remain, and EXIF (GPS, serial numbers) is
/// private data the API does not need.
pub(crate) fn encode(pixels: Pixels, quality: u8) -> Result<Vec<u8>> {
    let encode_error = |e: turbojpeg::Error| Error::corrupt(Format::Jpeg, format!("encoder: {e}"));
    let (format, subsamp) = match pixels.channels() {
        1 => (PixelFormat::GRAY, Subsamp::Gray),
        _ => (PixelFormat::RGB, Subsamp::Sub2x2),
    };
    let mut compressor = Compressor::new().map_err(encode_error)?;
    compressor
        .set_quality(i32::from(quality))
        .map_err(encode_error)?;
    compressor.set_subsamp(subsamp).map_err(encode_error)?;
    let width = pixels.width() as usize;
    let channels = pixels.channels() as usize;
    compressor
        .compress_to_vec(Image {
            pixels: pixels.data(),
            width,
            pitch: width * channels,
            height: pixels.height() as usize,
            format,
        })
        .map_err(encode_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adobe_cmyk_is_inverted() {
        // Inverted white: stored C=M=Y=K=255 means no ink.
        assert_eq!(
            cmyk_to_rgb(&[255, 255, 255, 255], true),
            vec![255, 255, 255]
        );
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), vec![255, 255, 255]);
        // Full cyan, no black (plain): red channel empty.
        assert_eq!(cmyk_to_rgb(&[255, 0, 0, 0], false), vec![0, 255, 255]);
    }
}
