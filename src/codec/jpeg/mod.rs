//! JPEG through libjpeg-turbo 3: DCT-domain shrink on load, CMYK/YCCK to RGB, and its fast
//! SIMD encoder. Downscales of gray and colour files stream rows ([`downscale`], over the
//! scanline API in [`scanlines`]); the rest decodes whole images through `turbojpeg`.

mod scanlines;

use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

use super::Encoded;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::geometry::jpeg_scale_denominator;
use crate::orientation::Orientation;
use crate::pixels::Pixels;
use crate::resize::resize_rows;
use scanlines::{RowDecoder, RowEncoder};

/// Progressive files with more scans than this are hostile: real encoders write about ten.
/// libjpeg-turbo's own guidance for untrusted input is to cap the scan count.
const MAX_SCANS: u32 = 500;

fn corrupt(e: turbojpeg::Error) -> Error {
    decode_error(
        e.to_string()
            .trim_start_matches("TurboJPEG error: ")
            .to_string(),
    )
}

/// A libjpeg decoding failure, by its message: running out of memory (or libjpeg's memory
/// limit) is ours (`resource_limit`), a process or precision libjpeg does not implement is
/// `undecodable`, the rest is damage in the file.
pub(crate) fn decode_error(message: String) -> Error {
    const OURS: [&str; 3] = [
        "Insufficient memory",
        "Memory limit exceeded",
        "Memory allocation failure",
    ];
    const UNSUPPORTED: [&str; 4] = [
        "Unsupported JPEG process",
        "Unsupported JPEG data precision",
        "Unsupported color conversion",
        "Requested features are incompatible",
    ];
    if OURS.iter().any(|m| message.contains(m)) {
        Error::ResourceLimit {
            what: format!("decoding the JPEG: {message}"),
        }
    } else if UNSUPPORTED.iter().any(|m| message.contains(m)) {
        Error::Undecodable {
            format: Format::Jpeg,
            detail: message,
        }
    } else {
        Error::corrupt(Format::Jpeg, message)
    }
}

/// How much of the shrink the Lanczos3 step must still do after a DCT-scaled decode (per axis).
///
/// libjpeg's scaled IDCT is a cruder low-pass than Lanczos3: left with little to do, the filter
/// cannot restore what the IDCT blurred. Measured with `make compare`'s reference (full decode,
/// float Lanczos3; `scripts/compare/compare.py`) on its 24 and 48 MP photos before encoding:
/// ½ decode leaving 1.22× for the filter (24 MP → 4 MP) gave 36.6 dB against 44.0 dB for a full
/// decode (33.7 vs 35.9 dB after q85); leaving 1.73× (48 MP → 4 MP) 41.0 vs 43.9 dB (35.1 vs
/// 35.6 after q85); leaving 2.45× 40.7 vs 41.5 dB (−0.2 after q85). With 2× (libvips's rule,
/// `thumbnail.c`) every output sits within 0.1 dB of the q85 ceiling (the reference itself
/// saved at q85), and streaming keeps the full decode cheap in memory: the 48 MP photo costs
/// 0.40 instead of 0.25 CPU seconds (vipsthumbnail: 0.72) for +0.5 dB (`BENCHMARKS.md`).
const MIN_FILTER_SHRINK: f64 = 2.0;

/// The DCT scale denominator (1, 2, 4, 8) for decoding a `size` image on its way to `target`:
/// the smallest scale whose result is still [`MIN_FILTER_SHRINK`] times `target` on both axes.
pub(crate) fn decode_denominator(size: (u32, u32), target: (u32, u32)) -> u32 {
    let margin = |v: u32| (f64::from(v) * MIN_FILTER_SHRINK).ceil() as u32;
    jpeg_scale_denominator(size, (margin(target.0), margin(target.1)))
}

/// Downscales a gray or colour JPEG of stored size `size` to `target` (stored orientation),
/// turns it upright and encodes it at `quality`, streaming: rows go from libjpeg's decoder
/// through the banded Lanczos3 resize straight into the encoder, so the decoded image never
/// exists whole (only the 4 MP result does, when the orientation needs a turn).
///
/// A progressive file is the exception: libjpeg holds its whole-image coefficient buffer
/// (2 bytes per sample) until the last scan is read, so `max_memory` bounds what libjpeg may
/// allocate and a file that needs more is refused with `too_large`.
///
/// `Ok(None)`: CMYK or YCCK files, which take the whole-image path ([`decode`]). 12-bit and
/// lossless files stream too, scaled to 8 bits.
pub(crate) fn downscale(
    data: &[u8],
    size: (u32, u32),
    target: (u32, u32),
    orientation: Orientation,
    quality: u8,
    max_memory: u64,
) -> Result<Option<Encoded>> {
    let denominator = decode_denominator(size, target);
    let Some(mut decoder) = RowDecoder::start(data, denominator, MAX_SCANS, max_memory)? else {
        return Ok(None);
    };
    let source = decoder.size();
    let channels = decoder.channels();
    let (width, height) = never_larger(source, target);
    let read = |buffer: &mut [u8], rows: u32| decoder.read_rows(buffer, rows);
    if orientation == Orientation::Normal {
        return Ok(Some(Encoded {
            bytes: resize_and_encode(source, target, channels, quality, read)?,
            width,
            height,
        }));
    }
    let mut pixels = Vec::with_capacity(width as usize * height as usize * usize::from(channels));
    resize_rows(source, (width, height), channels, read, |rows, _| {
        pixels.extend_from_slice(rows);
        Ok(())
    })?;
    let upright = orientation.apply(Pixels::from_parts(width, height, channels, pixels));
    let (width, height) = (upright.width(), upright.height());
    Ok(Some(Encoded {
        bytes: encode(upright, quality)?,
        width,
        height,
    }))
}

/// Scales decoded gray or RGB `pixels` (upright, no alpha) to `target` and encodes them at
/// `quality`, row band by row band: neither fast_image_resize's intermediate nor the whole
/// result is ever held (HEIC, PNG and WebP photos on their way to JPEG).
pub(crate) fn encode_scaled(pixels: &Pixels, target: (u32, u32), quality: u8) -> Result<Encoded> {
    debug_assert!(!pixels.has_alpha(), "flatten alpha before encoding as JPEG");
    let source = (pixels.width(), pixels.height());
    let channels = pixels.channels();
    let stride = source.0 as usize * usize::from(channels);
    let mut rows = pixels.data().chunks_exact(stride);
    let read = |buffer: &mut [u8], n: u32| {
        for (to, from) in buffer
            .chunks_exact_mut(stride)
            .zip(rows.by_ref().take(n as usize))
        {
            to.copy_from_slice(from);
        }
        Ok(())
    };
    let (width, height) = never_larger(source, target);
    Ok(Encoded {
        bytes: resize_and_encode(source, target, channels, quality, read)?,
        width,
        height,
    })
}

/// Every row of a gray or colour JPEG at 1/`denominator` scale, through the scanline decoder
/// the downscale streams from (the benchmarks time it on its own).
pub(crate) fn decode_rows(data: &[u8], denominator: u32) -> Result<Pixels> {
    let mut decoder =
        RowDecoder::start(data, denominator, MAX_SCANS, 0)?.ok_or_else(|| Error::Undecodable {
            format: Format::Jpeg,
            detail: "CMYK, YCCK or 12-bit JPEG".into(),
        })?;
    let (width, height) = decoder.size();
    let channels = decoder.channels();
    let mut rows = vec![0u8; width as usize * height as usize * usize::from(channels)];
    decoder.read_rows(&mut rows, height)?;
    Ok(Pixels::from_parts(width, height, channels, rows))
}

/// `target` clipped to `source`: downscales never enlarge.
fn never_larger(source: (u32, u32), target: (u32, u32)) -> (u32, u32) {
    (target.0.min(source.0), target.1.min(source.1))
}

/// The rows `read` supplies, Lanczos3-scaled to `target` band by band and fed straight into
/// the row encoder.
pub(crate) fn resize_and_encode(
    source: (u32, u32),
    target: (u32, u32),
    channels: u8,
    quality: u8,
    read: impl FnMut(&mut [u8], u32) -> Result<()>,
) -> Result<Vec<u8>> {
    let size = never_larger(source, target);
    let mut encoder = RowEncoder::start(size.0, size.1, channels, quality)?;
    resize_rows(source, size, channels, read, |rows, n| {
        encoder.write_rows(rows, n)
    })?;
    encoder.finish()
}

/// Decodes at the DCT scale [`decode_denominator`] picks, so the final filter step stays a
/// proper resample. Gray stays gray; CMYK and YCCK come out as RGB.
pub(crate) fn decode(
    data: &[u8],
    size: (u32, u32),
    adobe: bool,
    target: (u32, u32),
) -> Result<Pixels> {
    let denominator = decode_denominator(size, target);
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
    let encode_error = |e: turbojpeg::Error| Error::encoder(Format::Jpeg, e);
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

/// The file without the bytes that stand where a marker was due before the first scan (what
/// libjpeg skips with a "corrupt JPEG data: N extraneous bytes before marker" warning): the
/// same pixels for libjpeg, a file strict decoders read too. Every other byte is kept.
pub(crate) fn strip_extraneous(data: &[u8]) -> Result<Vec<u8>> {
    let header = crate::detect::jpeg::parse(data)?;
    let mut out = Vec::with_capacity(data.len());
    let mut at = 0;
    for junk in &header.extraneous {
        out.extend_from_slice(&data[at..junk.start]);
        at = junk.end;
    }
    out.extend_from_slice(&data[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resize::resize;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/fixtures/jpeg/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn header_size(data: &[u8]) -> (u32, u32) {
        let found = crate::detect::detect(data).unwrap();
        (found.width, found.height)
    }

    #[test]
    fn streamed_downscale_gives_the_bytes_of_the_whole_image_path() {
        // Same libjpeg settings, the same resize bit for bit, the same encoder settings.
        for (name, target) in [
            ("large_24mp.jpg", (2450, 1633)),
            ("gray_8mp.jpg", (2309, 1732)),
            ("progressive_8mp.jpg", (2309, 1732)),
        ] {
            let data = fixture(name);
            let size = header_size(&data);
            let streamed = downscale(&data, size, target, Orientation::Normal, 85, 0)
                .unwrap()
                .expect("gray and colour files stream");
            let whole = decode(&data, size, false, target).unwrap();
            let whole = encode(resize(whole, target.0, target.1), 85).unwrap();
            assert_eq!((streamed.width, streamed.height), target, "{name}");
            assert!(streamed.bytes == whole, "{name}: streamed bytes differ");
        }
    }

    #[test]
    fn banded_encode_of_decoded_pixels_matches_resize_then_encode() {
        for channels in [1u8, 3] {
            let (w, h) = (3001u32, 1999u32);
            let data: Vec<u8> = (0..w as usize * h as usize * usize::from(channels))
                .map(|i| ((i * 7919) % 251) as u8)
                .collect();
            let pixels = Pixels::new(w, h, channels, data).unwrap();
            // Nothing to scale: the row encoder writes exactly what turbojpeg writes.
            let same = encode_scaled(&pixels, (w, h), 85).unwrap().bytes;
            assert!(
                same == encode(pixels.clone(), 85).unwrap(),
                "{channels}: bytes differ"
            );
            // Scaled: samples may be one level apart before encoding (see resize::banded),
            // which q85 can turn into a few levels on this noise; on average nothing.
            let target = (1501, 1000);
            let banded = encode_scaled(&pixels, target, 85).unwrap();
            assert_eq!((banded.width, banded.height), target);
            let banded = banded.bytes;
            let whole = encode(resize(pixels, target.0, target.1), 85).unwrap();
            let a = decode(&banded, target, false, target).unwrap();
            let b = decode(&whole, target, false, target).unwrap();
            assert_eq!(
                (a.width(), a.height(), a.channels()),
                (1501, 1000, channels)
            );
            let total: u64 = a
                .data()
                .iter()
                .zip(b.data())
                .map(|(x, y)| u64::from(x.abs_diff(*y)))
                .sum();
            let mean = total as f64 / a.data().len() as f64;
            assert!(mean < 0.2, "{channels} channels: mean difference {mean}");
        }
    }

    #[test]
    fn streamed_downscale_turns_the_result_upright() {
        let data = fixture("large_24mp.jpg");
        let size = header_size(&data);
        let turned = downscale(&data, size, (2450, 1633), Orientation::Rotate90, 85, 0)
            .unwrap()
            .unwrap();
        assert_eq!((turned.width, turned.height), (1633, 2450));
        let found = crate::detect::detect(&turned.bytes).unwrap();
        assert_eq!((found.width, found.height), (1633, 2450));
    }

    #[test]
    fn cmyk_files_take_the_whole_image_path() {
        let data = fixture("cmyk_adobe_6mp.jpg");
        let size = header_size(&data);
        let target = (size.0 / 2, size.1 / 2);
        assert!(downscale(&data, size, target, Orientation::Normal, 85, 0)
            .unwrap()
            .is_none());
    }

    #[test]
    fn the_scan_limit_stops_progressive_files() {
        let data = fixture("progressive_8mp.jpg");
        // libjpeg reads every scan of a progressive file before the first row comes out.
        let decode_all = |max_scans| -> Result<()> {
            let mut decoder = RowDecoder::start(&data, 1, max_scans, 0)?.unwrap();
            let (w, h) = decoder.size();
            let mut rows = vec![0u8; w as usize * 3 * h as usize];
            decoder.read_rows(&mut rows, h)
        };
        decode_all(MAX_SCANS).unwrap();
        let err = decode_all(2).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Corrupt);
        assert!(err.to_string().contains("more than 2 scans"), "{err}");
    }

    #[test]
    fn a_progressive_file_over_the_memory_limit_is_refused_by_libjpeg() {
        let data = fixture("progressive_8mp.jpg");
        let size = header_size(&data);
        let target = (size.0 / 2, size.1 / 2);
        // 8 MP of 4:2:0 coefficients need about 24 MB; 16 MiB is not enough.
        let Err(err) = downscale(&data, size, target, Orientation::Normal, 85, 16 << 20) else {
            panic!("8 MP of coefficients fitted in 16 MiB");
        };
        assert_eq!(err.kind(), crate::ErrorKind::TooLarge, "{err}");
        assert!(err.to_string().contains("memory"), "{err}");
        // 64 MiB is, and a baseline file of the same size needs only rows.
        assert!(downscale(&data, size, target, Orientation::Normal, 85, 64 << 20).is_ok());
        let baseline = fixture("large_24mp.jpg");
        let size = header_size(&baseline);
        let out = downscale(
            &baseline,
            size,
            (2450, 1633),
            Orientation::Normal,
            85,
            16 << 20,
        );
        assert!(out.unwrap().is_some());
    }

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
