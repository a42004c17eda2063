//! Multi-page TIFF: every page decoded with the `tiff` crate (strips, tiles, BigTIFF, planar,
//! LZW, Deflate, PackBits, JPEG) or, for CCITT G3/G4 fax pages, with the `fax` crate directly
//! (the `tiff` crate ignores FillOrder and has no G3). Over-budget pages are scaled; all pages are
//! written back, upright, as one TIFF with the same page count: bilevel pages as CCITT G4 (or
//! 4-bit gray when G4 would thin their strokes, see [`crate::encoding`]), the others as 8-bit
//! Deflate.
//!
//! Pages are independent, so they are decoded, scaled and compressed in parallel (rayon); only
//! the compressed strips are kept until the file is assembled, which bounds memory by the
//! output size plus one decoded page per worker.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use rayon::prelude::*;
use tiff::decoder::{Decoder, Limits};
use tiff::encoder::{Rational, TiffEncoder};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use crate::detect::tiff::{first_ifd_patch, inline_value_patch, Patch};
use crate::detect::TiffPage;
use crate::encoding::{coverage_threshold, keeps_strokes, median_black_run};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;
use crate::pixels::Pixels;
use crate::resize::resize;

const PHOTOMETRIC_TAG: u16 = 262;
/// TIFF 6 §11: T4Options; bit 0 set means 2-D coding, which the `fax` crate's G3 decoder lacks.
const T4_OPTIONS: u16 = 292;
/// Uncompressed bytes per output strip: big enough for Deflate to find its matches, small
/// enough that a page's strips compress in parallel.
const STRIP_BYTES: usize = 256 * 1024;
/// zlib level for output strips: 6 is within a few percent of 9 on scans at half the time.
const DEFLATE_LEVEL: u32 = 6;

/// The result of [`prepare_pages`]: the new file, each page's upright output size, how the
/// pages were coded and, when a bilevel page was kept in grey, why.
pub(crate) struct PagesOut {
    pub bytes: Vec<u8>,
    pub sizes: Vec<[u32; 2]>,
    pub encoding: String,
    pub rejected: Option<String>,
}

/// Names a TIFF compression code for messages.
pub(crate) fn compression_name(code: u16) -> String {
    match code {
        1 => "none".into(),
        2 => "CCITT modified Huffman (RLE)".into(),
        3 => "CCITT G3".into(),
        4 => "CCITT G4".into(),
        5 => "LZW".into(),
        6 => "old-style JPEG".into(),
        7 => "JPEG".into(),
        8 | 32946 => "Deflate".into(),
        32773 => "PackBits".into(),
        32809 => "ThunderScan".into(),
        34712 => "JPEG 2000".into(),
        50000 => "Zstandard".into(),
        50001 => "WebP".into(),
        other => format!("code {other}"),
    }
}

/// Why `page` cannot be decoded by this build, judged from its header alone.
fn unsupported(page: &TiffPage) -> Option<String> {
    if !matches!(page.compression, 1 | 3 | 4 | 5 | 7 | 8 | 32946 | 32773) {
        return Some(format!(
            "{} compression",
            compression_name(page.compression)
        ));
    }
    if !matches!(page.photometric, 0 | 1 | 2 | 3 | 5 | 6) {
        return Some(format!("photometric interpretation {}", page.photometric));
    }
    None
}

/// Decodes every page, scales those with a `Some` target (sizes as stored), turns each page
/// upright and writes them all into one TIFF.
pub(crate) fn prepare_pages(
    data: &[u8],
    pages: &[TiffPage],
    targets: &[Option<(u32, u32)>],
    limit_pixels: u64,
) -> Result<PagesOut> {
    // Refuse before any decoding: one page we cannot read means the file cannot be rewritten.
    for (index, page) in pages.iter().enumerate() {
        if let Some(why) = unsupported(page) {
            return Err(Error::Undecodable {
                format: Format::Tiff,
                detail: format!("{why} on page {}", index + 1),
            });
        }
    }
    let encoded: Vec<(EncodedPage, Option<String>)> = pages
        .par_iter()
        .zip(targets.par_iter())
        .enumerate()
        .map(|(index, (page, target))| {
            let decoded = decode_page(data, page, limit_pixels).map_err(|e| e.on_page(index))?;
            // Bilevel pages (fax, 1-bit scans) stay bilevel when their strokes survive.
            let bilevel = page.is_bilevel().then(|| ink(&decoded.pixels));
            let pixels = match target {
                Some((w, h)) => resize(decoded.pixels, *w, *h),
                None => decoded.pixels,
            };
            let scale = f64::from(pixels.width()) / f64::from(page.width);
            let upright = Orientation::from_exif(page.orientation).apply(pixels);
            let resolution = decoded
                .resolution
                .map(|(x, y, unit)| (x * scale, y * scale, unit));
            Ok(match bilevel {
                Some((run, black)) if upright.width() <= u32::from(u16::MAX) => {
                    if keeps_strokes(run, scale) {
                        (compress_g4(&upright, black, resolution), None)
                    } else {
                        let why = format!(
                            "page {}: bilevel G4 would thin its {:.1} px strokes",
                            index + 1,
                            f64::from(run) * scale
                        );
                        (compress_gray4(&upright, resolution), Some(why))
                    }
                }
                _ => (compress_page(&upright, resolution), None),
            })
        })
        .collect::<Result<_>>()?;
    let sizes = encoded.iter().map(|(p, _)| [p.width, p.height]).collect();
    let mut names: Vec<&str> = encoded.iter().map(|(p, _)| p.coding.name()).collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    let encoding = format!("tiff_{}", names.join("+"));
    let reasons: Vec<String> = encoded.iter().filter_map(|(_, r)| r.clone()).collect();
    let rejected = (!reasons.is_empty()).then(|| reasons.join("; "));
    let pages: Vec<EncodedPage> = encoded.into_iter().map(|(p, _)| p).collect();
    let bytes = assemble(&pages).map_err(|e| Error::encoder(Format::Tiff, e))?;
    Ok(PagesOut {
        bytes,
        sizes,
        encoding,
        rejected,
    })
}

/// A bilevel page's median black run (its stroke width) and the fraction of black pixels.
fn ink(pixels: &Pixels) -> (u32, f64) {
    let data = pixels.data();
    let black = data.iter().filter(|&&v| v < 128).count();
    (
        median_black_run(data, pixels.width() as usize),
        black as f64 / data.len().max(1) as f64,
    )
}

/// A page decoded to 8-bit pixels (gray, gray+alpha, RGB or RGBA), as stored (not yet upright).
struct DecodedPage {
    pixels: Pixels,
    /// X and Y resolution and the ResolutionUnit code, when the page has them.
    resolution: Option<(f64, f64, u16)>,
}

/// A decoding failure, before we know which page it was on.
enum PageError {
    Corrupt(String),
    Undecodable(String),
    Tiff(TiffError),
}

impl PageError {
    fn on_page(self, index: usize) -> Error {
        let page = index + 1;
        match self {
            PageError::Corrupt(what) => {
                Error::corrupt(Format::Tiff, format!("page {page}: {what}"))
            }
            PageError::Undecodable(what) => Error::Undecodable {
                format: Format::Tiff,
                detail: format!("{what} on page {page}"),
            },
            PageError::Tiff(TiffError::UnsupportedError(what)) => Error::Undecodable {
                format: Format::Tiff,
                detail: format!("{what} on page {page}"),
            },
            PageError::Tiff(TiffError::LimitsExceeded) => Error::corrupt(
                Format::Tiff,
                format!("page {page} needs more memory than its declared size allows"),
            ),
            PageError::Tiff(other) => Error::corrupt(Format::Tiff, format!("page {page}: {other}")),
        }
    }
}

impl From<TiffError> for PageError {
    fn from(e: TiffError) -> Self {
        PageError::Tiff(e)
    }
}

type PageResult<T> = std::result::Result<T, PageError>;

/// The file's bytes with a few bytes replaced: lets a decoder start at any page's IFD (and read
/// a palette page as gray indices) without copying the file.
struct Patched<'a> {
    data: &'a [u8],
    patches: Vec<Patch>,
    pos: u64,
}

impl Read for Patched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
        let Some(rest) = self.data.get(start..) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        for (at, bytes) in &self.patches {
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = (at + i)
                    .checked_sub(start)
                    .filter(|&k| k < n)
                    .map(|k| &mut buf[k])
                {
                    *slot = *b;
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Patched<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => (self.data.len() as u64).checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| std::io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}

fn decode_page(data: &[u8], page: &TiffPage, limit_pixels: u64) -> PageResult<DecodedPage> {
    let pixels = u64::from(page.width) * u64::from(page.height);
    let allowance = crate::codec::decode_allowance(pixels, limit_pixels)
        .map_err(|e| PageError::Corrupt(e.to_string()))?;
    let allowance = usize::try_from(allowance).unwrap_or(usize::MAX);
    let mut patches = vec![first_ifd_patch(data, page.ifd_offset)
        .ok_or_else(|| PageError::Corrupt("bad IFD offset".into()))?];
    if page.photometric == 3 {
        // The crate refuses palette images; read them as gray to get the raw indices.
        patches.push(
            inline_value_patch(data, page.ifd_offset, PHOTOMETRIC_TAG, 1).ok_or_else(|| {
                PageError::Undecodable("palette page with an odd tag layout".into())
            })?,
        );
    }
    let mut limits = Limits::default();
    limits.decoding_buffer_size = allowance;
    limits.intermediate_buffer_size = allowance;
    let reader = Patched {
        data,
        patches,
        pos: 0,
    };
    let mut decoder = Decoder::new(reader)?.with_limits(limits);
    if (decoder.dimensions()?) != (page.width, page.height) {
        return Err(PageError::Corrupt("the IFD changed between reads".into()));
    }
    let resolution = resolution(&mut decoder);
    let pixels = match page.compression {
        3 | 4 => decode_fax(data, &mut decoder, page)?,
        _ => decode_generic(&mut decoder, page, allowance)?,
    };
    Ok(DecodedPage { pixels, resolution })
}

fn resolution<R: Read + Seek>(decoder: &mut Decoder<R>) -> Option<(f64, f64, u16)> {
    let rational = |v: tiff::decoder::ifd::Value| match v {
        tiff::decoder::ifd::Value::Rational(n, d) if d != 0 && n != 0 => {
            Some(f64::from(n) / f64::from(d))
        }
        _ => None,
    };
    let x = rational(decoder.find_tag(Tag::XResolution).ok()??)?;
    let y = rational(decoder.find_tag(Tag::YResolution).ok()??)?;
    let unit = decoder
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    Some((x, y, unit))
}

/// Everything but CCITT: the crate decodes, we bring the samples to 8-bit gray or RGB(A).
fn decode_generic<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    page: &TiffPage,
    allowance: usize,
) -> PageResult<Pixels> {
    let color = decoder.colortype()?;
    let layout = decoder.image_buffer_layout()?;
    if layout.complete_len > allowance {
        return Err(PageError::Tiff(TiffError::LimitsExceeded));
    }
    let mut raw = vec![0u8; layout.complete_len];
    decoder.read_image_bytes(&mut raw)?;
    let (w, h) = (page.width as usize, page.height as usize);
    let samples = match color {
        ColorType::Gray(_) => 1,
        ColorType::GrayA(_) => 2,
        ColorType::RGB(_) | ColorType::YCbCr(_) => 3,
        ColorType::RGBA(_) | ColorType::CMYK(_) => 4,
        ColorType::CMYKA(_) => 5,
        ColorType::Multiband { num_samples, .. } if num_samples <= 2 => num_samples as usize,
        other => return Err(PageError::Undecodable(format!("colour type {other:?}"))),
    };
    let bits = color.bit_depth();
    let palette = page.photometric == 3;
    // Planar files hold each sample in its own plane: convert plane by plane, then interleave.
    let planes = layout.planes.max(1);
    let per_plane = if planes > 1 { 1 } else { samples };
    if planes > 1 && planes != samples {
        return Err(PageError::Corrupt(format!(
            "{planes} planes for {samples} samples"
        )));
    }
    let stride = layout.plane_stride.map_or(raw.len(), |s| s.get());
    let mut converted = Vec::with_capacity(planes);
    for p in 0..planes {
        let plane = raw
            .get(p * stride..)
            .ok_or_else(|| PageError::Corrupt("short plane".into()))?;
        converted.push(to_8bit(
            plane,
            (w, h, per_plane),
            bits,
            page.sample_format,
            !palette,
        )?);
    }
    let mut data = if planes > 1 {
        let mut out = vec![0u8; w * h * samples];
        for (p, plane) in converted.iter().enumerate() {
            for (px, v) in out.chunks_exact_mut(samples).zip(plane) {
                px[p] = *v;
            }
        }
        out
    } else {
        converted.pop().unwrap_or_default()
    };
    let (w32, h32) = (page.width, page.height);
    if palette {
        let map = decoder.get_tag_u16_vec(Tag::ColorMap)?;
        return expand_palette(&data, &map, bits).map(|rgb| Pixels::from_parts(w32, h32, 3, rgb));
    }
    Ok(match color {
        ColorType::YCbCr(_) => {
            ycbcr_to_rgb(&mut data);
            Pixels::from_parts(w32, h32, 3, data)
        }
        ColorType::CMYK(_) | ColorType::CMYKA(_) => {
            let cmyk: Vec<u8> = if samples == 5 {
                data.chunks_exact(5)
                    .flat_map(|px| px[..4].to_vec())
                    .collect()
            } else {
                data
            };
            Pixels::from_parts(w32, h32, 3, crate::codec::jpeg::cmyk_to_rgb(&cmyk, false))
        }
        _ => Pixels::from_parts(w32, h32, samples as u8, data),
    })
}

/// Unpacks rows of `samples` samples of `bits` each (1, 2, 4, 8, 16, 32; rows padded to a byte)
/// to one byte per sample. `format` is the TIFF SampleFormat: unsigned (1), signed (2, shifted
/// so that the most negative value is 0) or IEEE float (3, 32/64-bit: see [`float_to_8bit`]).
/// `scale` maps the range to 0–255; without it (palette indices) values are kept.
fn to_8bit(
    raw: &[u8],
    (w, h, samples): (usize, usize, usize),
    bits: u8,
    format: u16,
    scale: bool,
) -> PageResult<Vec<u8>> {
    let row_samples = w * samples;
    let row_bytes = (row_samples * usize::from(bits)).div_ceil(8);
    let needed = row_bytes * h;
    let raw = raw
        .get(..needed)
        .ok_or_else(|| PageError::Corrupt("fewer samples than the size says".into()))?;
    let signed = format == 2;
    match (format, bits) {
        (3, 32 | 64) => return Ok(float_to_8bit(raw, bits)),
        (3, _) => return Err(PageError::Undecodable(format!("{bits}-bit float samples"))),
        (1 | 2, _) => {}
        (other, _) => return Err(PageError::Undecodable(format!("sample format {other}"))),
    }
    match bits {
        8 if signed => Ok(raw.iter().map(|&b| (b as i8 as i16 + 128) as u8).collect()),
        8 => Ok(raw.to_vec()),
        // The crate hands 16- and 32-bit samples over in native byte order.
        16 => Ok(raw
            .chunks_exact(2)
            .map(|b| {
                let v = u16::from_ne_bytes([b[0], b[1]]);
                let v = u32::from(if signed { v ^ 0x8000 } else { v });
                if scale {
                    ((v * 255 + 32_767) / 65_535) as u8
                } else {
                    v.min(255) as u8
                }
            })
            .collect()),
        32 => Ok(raw
            .chunks_exact(4)
            .map(|b| {
                let v = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                let v = u64::from(if signed { v ^ 0x8000_0000 } else { v });
                ((v * 255 + u64::from(u32::MAX / 2)) / u64::from(u32::MAX)) as u8
            })
            .collect()),
        1 | 2 | 4 => {
            let per_byte = 8 / usize::from(bits);
            let mask = (1u8 << bits) - 1;
            let factor = if scale { 255 / mask } else { 1 };
            let mut out = Vec::with_capacity(row_samples * h);
            for row in raw.chunks_exact(row_bytes) {
                for i in 0..row_samples {
                    let byte = row[i / per_byte];
                    let shift = 8 - usize::from(bits) * (i % per_byte + 1);
                    out.push(((byte >> shift) & mask) * factor);
                }
            }
            Ok(out)
        }
        other => Err(PageError::Undecodable(format!("{other}-bit samples"))),
    }
}

/// Float samples (native order) to 8 bits. Float TIFFs carry no nominal range, so the common
/// conventions decide: values within 0–1 are fractions of white, within 0–255 levels;
/// anything else (elevations, signed data) is stretched from its minimum to its maximum.
/// NaN and infinities become 0.
fn float_to_8bit(raw: &[u8], bits: u8) -> Vec<u8> {
    let values: Vec<f64> = if bits == 64 {
        raw.chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().unwrap_or([0; 8])))
            .collect()
    } else {
        raw.chunks_exact(4)
            .map(|b| f64::from(f32::from_ne_bytes([b[0], b[1], b[2], b[3]])))
            .collect()
    };
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (offset, factor) = if min >= 0.0 && max <= 1.0 {
        (0.0, 255.0)
    } else if min >= 0.0 && max <= 255.0 {
        (0.0, 1.0)
    } else if max > min {
        (min, 255.0 / (max - min))
    } else {
        (0.0, 0.0)
    };
    values
        .iter()
        .map(|&v| {
            if v.is_finite() {
                ((v - offset) * factor).round().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        })
        .collect()
}

/// Palette indices → RGB through the TIFF ColorMap (all reds, then greens, then blues; 16-bit).
fn expand_palette(indices: &[u8], map: &[u16], bits: u8) -> PageResult<Vec<u8>> {
    let entries = 1usize << bits.min(8);
    if bits > 8 || map.len() != 3 * entries {
        return Err(PageError::Corrupt(format!(
            "ColorMap has {} values for {bits}-bit indices",
            map.len()
        )));
    }
    let lut: Vec<[u8; 3]> = (0..entries)
        .map(|i| [0, 1, 2].map(|c| (map[c * entries + i] >> 8) as u8))
        .collect();
    Ok(indices
        .iter()
        .flat_map(|&i| lut[usize::from(i) % entries])
        .collect())
}

/// JFIF YCbCr → RGB in place (what JPEG-in-TIFF stores; the crate leaves it unconverted).
fn ycbcr_to_rgb(data: &mut [u8]) {
    for px in data.chunks_exact_mut(3) {
        let y = f32::from(px[0]);
        let cb = f32::from(px[1]) - 128.0;
        let cr = f32::from(px[2]) - 128.0;
        let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        px[0] = clamp(y + 1.402 * cr);
        px[1] = clamp(y - 0.344_136 * cb - 0.714_136 * cr);
        px[2] = clamp(y + 1.772 * cb);
    }
}

/// CCITT G3 (1-D) and G4 pages, strip by strip, straight to 8-bit gray.
fn decode_fax<R: Read + Seek>(
    data: &[u8],
    decoder: &mut Decoder<R>,
    page: &TiffPage,
) -> PageResult<Pixels> {
    let (w, h) = (page.width, page.height);
    if decoder.find_tag(Tag::TileWidth)?.is_some() {
        return Err(PageError::Undecodable("tiled CCITT".into()));
    }
    let width = u16::try_from(w)
        .map_err(|_| PageError::Undecodable("CCITT page wider than 65535".into()))?;
    let offsets = decoder.get_tag_u64_vec(Tag::StripOffsets)?;
    let counts = decoder.get_tag_u64_vec(Tag::StripByteCounts)?;
    if offsets.len() != counts.len() {
        return Err(PageError::Corrupt(
            "strip offsets and byte counts disagree".into(),
        ));
    }
    let rows_per_strip = decoder
        .find_tag_unsigned::<u32>(Tag::RowsPerStrip)?
        .unwrap_or(h)
        .clamp(1, h);
    if (offsets.len() as u64) < u64::from(h.div_ceil(rows_per_strip)) {
        return Err(PageError::Corrupt("fewer strips than rows need".into()));
    }
    let reversed = decoder
        .find_tag_unsigned::<u16>(Tag::FillOrder)?
        .unwrap_or(1)
        == 2;
    if page.compression == 3 {
        let options = decoder
            .find_tag_unsigned::<u32>(Tag::Unknown(T4_OPTIONS))?
            .unwrap_or(0);
        if options & 1 == 1 {
            return Err(PageError::Undecodable("CCITT G3 2-D compression".into()));
        }
    }
    // Fax "white" runs are 0 bits: white on MinIsWhite pages, black on MinIsBlack ones.
    let white: u8 = if page.photometric == 1 { 0 } else { 255 };
    let (wu, hu) = (w as usize, h as usize);
    let mut out = vec![white; wu * hu];
    for (strip, rows) in out.chunks_mut(wu * rows_per_strip as usize).enumerate() {
        let (offset, count) = (offsets[strip], counts[strip]);
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(count).ok())
            .and_then(|(o, c)| data.get(o..o.checked_add(c)?))
            .ok_or_else(|| PageError::Corrupt(format!("strip {} runs past the end", strip + 1)))?;
        let input = bytes
            .iter()
            .map(move |&b| if reversed { b.reverse_bits() } else { b });
        let n_rows = rows.len() / wu;
        let mut lines = rows.chunks_exact_mut(wu);
        let mut emit = |transitions: &[u16]| {
            if let Some(line) = lines.next() {
                paint_line(line, transitions, 255 - white);
            }
        };
        let ok = if page.compression == 4 {
            let rows16 = u16::try_from(n_rows)
                .map_err(|_| PageError::Undecodable("CCITT strip taller than 65535 rows".into()))?;
            fax::decoder::decode_g4(input, width, Some(rows16), &mut emit).is_some()
        } else {
            decode_g3_strip(input, n_rows, &mut emit)
        };
        if !ok {
            return Err(PageError::Corrupt(format!(
                "{} data in strip {} does not decode",
                compression_name(page.compression),
                strip + 1
            )));
        }
    }
    Ok(Pixels::from_parts(w, h, 1, out))
}

/// G3 1-D: rows separated by EOL codes. Stops after `rows` lines or at the end of the data;
/// fails only when not a single line decodes.
fn decode_g3_strip(
    input: impl Iterator<Item = u8>,
    rows: usize,
    emit: &mut impl FnMut(&[u16]),
) -> bool {
    use fax::decoder::{DecodeStatus, Group3Decoder};
    let Ok(mut decoder) = Group3Decoder::new(input.map(Ok::<u8, std::convert::Infallible>)) else {
        return false;
    };
    let mut done = 0;
    while done < rows {
        match decoder.advance() {
            Ok(status) => {
                emit(decoder.transitions());
                done += 1;
                if status == DecodeStatus::End {
                    break;
                }
            }
            Err(_) => {
                // The last line of a strip without an RTC ends at the end of the data.
                if !decoder.transitions().is_empty() {
                    emit(decoder.transitions());
                    done += 1;
                }
                break;
            }
        }
    }
    done > 0
}

/// Paints the "black" runs of one fax line; `transitions` are the positions where the colour
/// changes, starting with white.
fn paint_line(line: &mut [u8], transitions: &[u16], black: u8) {
    let w = line.len();
    for pair in transitions.chunks(2) {
        let start = usize::from(pair[0]).min(w);
        let end = pair.get(1).map_or(w, |&e| usize::from(e).min(w));
        if start < end {
            line[start..end].fill(black);
        }
    }
}

/// One page ready to be written: compressed strips.
struct EncodedPage {
    width: u32,
    height: u32,
    channels: u8,
    rows_per_strip: u32,
    coding: Coding,
    strips: Vec<Vec<u8>>,
    resolution: Option<(f64, f64, u16)>,
}

/// How a page's strips are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// 8-bit samples, Deflate; with horizontal differences (TIFF Predictor 2) or not.
    Deflate { predictor: bool },
    /// 4-bit gray, Deflate: a bilevel page too thin for G4 keeps 16 levels of anti-aliasing.
    Gray4,
    /// Bilevel, CCITT G4, WhiteIsZero.
    G4,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Deflate { .. } => "deflate",
            Coding::Gray4 => "gray4",
            Coding::G4 => "g4",
        }
    }
}

/// Binarises `pixels` (gray, as the page decoder and resize give for bilevel pages) so that
/// the page keeps the source's `black` fraction of ink, and codes it as one G4 strip.
fn compress_g4(pixels: &Pixels, black: f64, resolution: Option<(f64, f64, u16)>) -> EncodedPage {
    let gray;
    let pixels = if pixels.channels() == 1 {
        pixels
    } else {
        gray = to_gray(pixels);
        &gray
    };
    let mut histogram = [0u64; 256];
    for &v in pixels.data() {
        histogram[usize::from(v)] += 1;
    }
    let threshold = coverage_threshold(&histogram, black);
    let width = pixels.width() as usize;
    let mut encoder = fax::encoder::Encoder::new(fax::VecWriter::new());
    for row in pixels.data().chunks_exact(width.max(1)) {
        let pels = row.iter().map(|&v| {
            if v < threshold {
                fax::Color::Black
            } else {
                fax::Color::White
            }
        });
        // Writing to a Vec cannot fail.
        let _ = encoder.encode_line(pels, width as u16);
    }
    let strip = match encoder.finish() {
        Ok(writer) => writer.finish(),
        Err(never) => match never {},
    };
    EncodedPage {
        width: pixels.width(),
        height: pixels.height(),
        channels: 1,
        rows_per_strip: pixels.height().max(1),
        coding: Coding::G4,
        strips: vec![strip],
        resolution,
    }
}

/// 16 gray levels, two pixels a byte, Deflate.
fn compress_gray4(pixels: &Pixels, resolution: Option<(f64, f64, u16)>) -> EncodedPage {
    let gray;
    let pixels = if pixels.channels() == 1 {
        pixels
    } else {
        gray = to_gray(pixels);
        &gray
    };
    let width = pixels.width() as usize;
    let row_bytes = width.div_ceil(2);
    let rows_per_strip = (STRIP_BYTES / row_bytes.max(1)).clamp(1, pixels.height() as usize);
    let strips = pixels
        .data()
        .par_chunks(rows_per_strip * width.max(1))
        .map(|rows| {
            let mut packed = Vec::with_capacity(rows.len() / 2 + 1);
            for row in rows.chunks_exact(width.max(1)) {
                for pair in row.chunks(2) {
                    let level = |v: u8| (u16::from(v) * 15 + 127) / 255;
                    let hi = level(pair[0]);
                    let lo = pair.get(1).map_or(0, |&v| level(v));
                    packed.push((hi << 4 | lo) as u8);
                }
            }
            deflate(&packed)
        })
        .collect();
    EncodedPage {
        width: pixels.width(),
        height: pixels.height(),
        channels: 1,
        rows_per_strip: rows_per_strip as u32,
        coding: Coding::Gray4,
        strips,
        resolution,
    }
}

/// Luma of a gray+alpha or colour page (bilevel pages decode to gray; this is for safety).
fn to_gray(pixels: &Pixels) -> Pixels {
    let flat = pixels.clone().flatten_on_white();
    let n = usize::from(flat.channels());
    let data = flat
        .data()
        .chunks_exact(n)
        .map(|px| {
            if n >= 3 {
                ((u32::from(px[0]) * 77 + u32::from(px[1]) * 150 + u32::from(px[2]) * 29) >> 8)
                    as u8
            } else {
                px[0]
            }
        })
        .collect();
    Pixels::from_parts(flat.width(), flat.height(), 1, data)
}

fn compress_page(pixels: &Pixels, resolution: Option<(f64, f64, u16)>) -> EncodedPage {
    // Gray+alpha has no plain TIFF colour type in common readers: flatten it on white.
    let flattened;
    let pixels = if pixels.channels() == 2 {
        flattened = pixels.clone().flatten_on_white();
        &flattened
    } else {
        pixels
    };
    let channels = usize::from(pixels.channels());
    let row_bytes = pixels.width() as usize * channels;
    let rows_per_strip = (STRIP_BYTES / row_bytes.max(1)).clamp(1, pixels.height() as usize);
    let strips: Vec<&[u8]> = pixels.data().chunks(rows_per_strip * row_bytes).collect();
    // Horizontal differencing (TIFF Predictor 2) shrinks photos and colour scans by a third
    // but grows text pages and flat colours by 10–15 %: try both on a few strips and keep
    // the smaller for the whole page (the tag is per page).
    let step = strips.len().div_ceil(4).max(1);
    let (plain, predicted): (usize, usize) = strips
        .par_iter()
        .step_by(step)
        .map(|strip| {
            (
                deflate(strip).len(),
                deflate(&predict(strip, row_bytes, channels)).len(),
            )
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let predictor = predicted < plain;
    let strips = strips
        .par_iter()
        .map(|strip| {
            if predictor {
                deflate(&predict(strip, row_bytes, channels))
            } else {
                deflate(strip)
            }
        })
        .collect();
    EncodedPage {
        width: pixels.width(),
        height: pixels.height(),
        channels: pixels.channels(),
        rows_per_strip: rows_per_strip as u32,
        coding: Coding::Deflate { predictor },
        strips,
        resolution,
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::new(DEFLATE_LEVEL),
    );
    // Writing to a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

/// TIFF Predictor 2 on 8-bit rows: each sample minus the same sample of the pixel to its left.
fn predict(strip: &[u8], row_bytes: usize, channels: usize) -> Vec<u8> {
    let mut out = strip.to_vec();
    for row in out.chunks_mut(row_bytes) {
        for x in (channels..row.len()).rev() {
            row[x] = row[x].wrapping_sub(row[x - channels]);
        }
    }
    out
}

/// Writes the pages as a chain of IFDs (classic TIFF: the output is capped at 100 MB).
fn assemble(pages: &[EncodedPage]) -> tiff::TiffResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut out)?;
    for page in pages {
        let mut dir = encoder.image_directory()?;
        let mut offsets = Vec::with_capacity(page.strips.len());
        for strip in &page.strips {
            let at = dir.write_data(&strip[..])?;
            offsets.push(u32::try_from(at).map_err(|_| TiffError::LimitsExceeded)?);
        }
        let counts: Vec<u32> = page.strips.iter().map(|s| s.len() as u32).collect();
        dir.write_tag(Tag::ImageWidth, page.width)?;
        dir.write_tag(Tag::ImageLength, page.height)?;
        let (bits, compression, photometric) = match page.coding {
            Coding::Deflate { .. } => (8u16, 8u16, if page.channels == 1 { 1u16 } else { 2 }),
            Coding::Gray4 => (4, 8, 1),
            Coding::G4 => (1, 4, 0),
        };
        let bits = [bits; 4];
        dir.write_tag(Tag::BitsPerSample, &bits[..usize::from(page.channels)])?;
        dir.write_tag(Tag::Compression, compression)?;
        dir.write_tag(Tag::PhotometricInterpretation, photometric)?;
        dir.write_tag(Tag::StripOffsets, &offsets[..])?;
        dir.write_tag(Tag::SamplesPerPixel, u16::from(page.channels))?;
        dir.write_tag(Tag::RowsPerStrip, page.rows_per_strip)?;
        dir.write_tag(Tag::StripByteCounts, &counts[..])?;
        dir.write_tag(Tag::PlanarConfiguration, 1u16)?;
        if page.coding == (Coding::Deflate { predictor: true }) {
            dir.write_tag(Tag::Predictor, 2u16)?;
        }
        if page.channels == 4 {
            dir.write_tag(Tag::ExtraSamples, 2u16)?; // unassociated alpha
        }
        if let Some((x, y, unit)) = page.resolution {
            let rational = |v: f64| Rational {
                n: (v * 100.0).round().clamp(1.0, f64::from(u32::MAX)) as u32,
                d: 100,
            };
            dir.write_tag(Tag::XResolution, rational(x))?;
            dir.write_tag(Tag::YResolution, rational(y))?;
            dir.write_tag(Tag::ResolutionUnit, unit)?;
        }
        dir.finish()?;
    }
    // The encoder borrows `out`; its last use above ends the borrow.
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fax_runs_alternate_from_white() {
        let mut line = [255u8; 10];
        paint_line(&mut line, &[2, 4, 7], 0);
        assert_eq!(line, [255, 255, 0, 0, 255, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn packed_samples_unpack_and_scale() {
        // Two rows of 3 one-bit pixels, each row padded to a byte.
        let out = to_8bit(&[0b1010_0000, 0b0110_0000], (3, 2, 1), 1, 1, true).ok();
        assert_eq!(out, Some(vec![255, 0, 255, 0, 255, 255]));
        let out = to_8bit(&[0x12, 0x30], (3, 1, 1), 4, 1, false).ok();
        assert_eq!(out, Some(vec![1, 2, 3]));
    }

    #[test]
    fn signed_and_float_samples_map_to_8_bits() {
        // Signed 8-bit: -128 → 0, 0 → 128, 127 → 255.
        let out = to_8bit(&[0x80, 0x00, 0x7F], (3, 1, 1), 8, 2, true).ok();
        assert_eq!(out, Some(vec![0, 128, 255]));
        let floats = |v: &[f32]| v.iter().flat_map(|f| f.to_ne_bytes()).collect::<Vec<u8>>();
        // Fractions of white.
        let out = to_8bit(&floats(&[0.0, 0.5, 1.0]), (3, 1, 1), 32, 3, true).ok();
        assert_eq!(out, Some(vec![0, 128, 255]));
        // Any other range is stretched; NaN is black.
        let out = to_8bit(&floats(&[-10.0, 10.0, f32::NAN]), (3, 1, 1), 32, 3, true).ok();
        assert_eq!(out, Some(vec![0, 255, 0]));
    }

    #[test]
    fn palette_uses_the_high_byte_of_each_entry() {
        let map = [0xFF00, 0x0000, 0x00FF, 0x8000, 0x0000, 0x1200]; // 1-bit: 2 entries
        let rgb = expand_palette(&[0, 1], &map, 1).ok();
        assert_eq!(rgb, Some(vec![255, 0, 0, 0, 128, 18]));
    }

    #[test]
    fn predictor_differences_each_channel_from_the_left() {
        // Two RGB pixels per row, two rows.
        let out = predict(&[10, 20, 30, 11, 25, 29, 0, 0, 0, 255, 1, 2], 6, 3);
        assert_eq!(out, vec![10, 20, 30, 1, 5, 255, 0, 0, 0, 255, 1, 2]);
    }

    #[test]
    fn ycbcr_gray_stays_gray() {
        let mut px = [100, 128, 128];
        ycbcr_to_rgb(&mut px);
        assert_eq!(px, [100, 100, 100]);
    }
}
