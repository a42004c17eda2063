//! TIFF and BigTIFF: walks the IFD chain for the page count and page sizes.
//!
//! The same IFD reader serves EXIF blocks, which are TIFF structures too.

use std::collections::HashSet;

use serde::Serialize;

use super::bytes::{slice, Endian};
use super::{Details, Detected, TiffInfo};
use crate::error::{Error, Limit, Result};
use crate::format::Format;
use crate::orientation::Orientation;

/// More IFDs than this is not a document but an attack (or a loop we failed to see).
const MAX_IFDS: usize = 10_000;
/// No real IFD has this many entries; the TIFF 6 spec lists fewer than 100 tags.
const MAX_ENTRIES: u64 = 4_096;

const TAG_NEW_SUBFILE_TYPE: u16 = 254;
const TAG_WIDTH: u16 = 256;
const TAG_HEIGHT: u16 = 257;
const TAG_BITS_PER_SAMPLE: u16 = 258;
const TAG_COMPRESSION: u16 = 259;
const TAG_PHOTOMETRIC: u16 = 262;
const TAG_ORIENTATION: u16 = 274;
const TAG_SAMPLES_PER_PIXEL: u16 = 277;
const TAG_PREDICTOR: u16 = 317;
const TAG_SAMPLE_FORMAT: u16 = 339;
const TAG_STRIP_OFFSETS: u16 = 273;
const TAG_STRIP_BYTE_COUNTS: u16 = 279;
const TAG_TILE_OFFSETS: u16 = 324;
const TAG_TILE_BYTE_COUNTS: u16 = 325;

/// One page of a TIFF file, from its IFD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TiffPage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Compression code (1 none, 3 CCITT G3, 4 CCITT G4, 5 LZW, 7 JPEG, 8 Deflate, …).
    pub compression: u16,
    /// Photometric interpretation (0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 palette, 5 CMYK, 6 YCbCr).
    pub photometric: u16,
    /// Bits per sample of the first sample.
    pub bits_per_sample: u16,
    /// Samples per pixel.
    pub samples_per_pixel: u16,
    /// SampleFormat of the first sample: 1 unsigned integer (also when absent), 2 signed
    /// integer, 3 IEEE float, 4 undefined.
    pub sample_format: u16,
    /// Predictor: 1 none (also when absent), 2 horizontal differencing, 3 floating point.
    pub predictor: u16,
    /// TIFF Orientation tag (1 when absent).
    pub orientation: u16,
    /// File offset of this page's IFD (decoders start there rather than walking the chain).
    pub ifd_offset: u64,
}

impl TiffPage {
    /// One 1-bit grey sample per pixel: a fax or a bilevel scan.
    ///
    /// ```
    /// use mindee_prep::detect::{detect, Details};
    /// let fax = detect(&std::fs::read("fixtures/tiff/g4_fillorder2.tif").unwrap()).unwrap();
    /// let Details::Tiff(info) = fax.details else { unreachable!() };
    /// assert!(info.pages[0].is_bilevel());
    /// ```
    pub fn is_bilevel(&self) -> bool {
        self.bits_per_sample == 1
            && self.samples_per_pixel == 1
            && matches!(self.photometric, 0 | 1)
    }
}

/// The first value of one IFD entry, widened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IfdEntryValue {
    pub tag: u16,
    pub value: u64,
}

pub(crate) fn has_signature(data: &[u8]) -> bool {
    matches!(
        data.get(0..4),
        Some([0x49, 0x49, 0x2A, 0x00])
            | Some([0x4D, 0x4D, 0x00, 0x2A])
            | Some([0x49, 0x49, 0x2B, 0x00])
            | Some([0x4D, 0x4D, 0x00, 0x2B])
    )
}

/// Parses a TIFF header at the start of `data`: byte order, BigTIFF, first IFD offset.
fn header(data: &[u8]) -> Option<(Endian, bool, u64)> {
    let endian = match data.get(0..2)? {
        b"II" => Endian::Little,
        b"MM" => Endian::Big,
        _ => return None,
    };
    match endian.u16(data, 2)? {
        42 => Some((endian, false, u64::from(endian.u32(data, 4)?))),
        43 => {
            // BigTIFF: offset size 8, then 2 reserved bytes, then the first IFD offset.
            if endian.u16(data, 4)? != 8 {
                return None;
            }
            Some((endian, true, endian.u64(data, 8)?))
        }
        _ => None,
    }
}

/// Reads the IFD chain of a TIFF structure, returning each IFD's offset and entries in order.
///
/// Errors name what was wrong: an offset past the end, a loop in the chain, too many IFDs.
pub(crate) fn read_ifd_chain(
    data: &[u8],
    format: Format,
) -> Result<Vec<(u64, Vec<IfdEntryValue>)>> {
    let (endian, big, mut offset) =
        header(data).ok_or_else(|| Error::corrupt(format, "bad TIFF header"))?;
    let mut seen = HashSet::new();
    let mut ifds = Vec::new();
    while offset != 0 {
        if !seen.insert(offset) {
            return Err(Error::corrupt(format, "loop in the IFD chain"));
        }
        if ifds.len() >= MAX_IFDS {
            return Err(Error::TooLarge {
                limit: Limit::Pages,
                actual: ifds.len() as u64 + 1,
                max: MAX_IFDS as u64,
            });
        }
        let (entries, next) = read_ifd(data, endian, big, offset).ok_or_else(|| {
            Error::corrupt(
                format,
                format!(
                    "IFD {} at offset {offset} runs past the end",
                    ifds.len() + 1
                ),
            )
        })?;
        ifds.push((offset, entries));
        offset = next;
    }
    Ok(ifds)
}

fn read_ifd(
    data: &[u8],
    endian: Endian,
    big: bool,
    offset: u64,
) -> Option<(Vec<IfdEntryValue>, u64)> {
    let offset = usize::try_from(offset).ok()?;
    let (count, first_entry, entry_size, inline_size) = if big {
        (endian.u64(data, offset)?, offset + 8, 20usize, 8u64)
    } else {
        (
            u64::from(endian.u16(data, offset)?),
            offset + 2,
            12usize,
            4u64,
        )
    };
    if count > MAX_ENTRIES {
        return None;
    }
    let count = count as usize;
    let table = slice(data, first_entry, count * entry_size)?;
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let e = i * entry_size;
        let tag = endian.u16(table, e)?;
        let kind = endian.u16(table, e + 2)?;
        let (n, value_at) = if big {
            (endian.u64(table, e + 4)?, e + 12)
        } else {
            (u64::from(endian.u32(table, e + 4)?), e + 8)
        };
        let size = match kind {
            1 | 2 | 6 | 7 => 1u64,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            16..=18 => 8,
            _ => continue, // rationals and unknown types: nothing we read needs them
        };
        if n == 0 {
            continue;
        }
        // Only the first value is ever needed here; it sits inline when everything fits.
        let (source, at) = if size.saturating_mul(n) <= inline_size {
            (table, value_at)
        } else {
            let pointer = if big {
                endian.u64(table, value_at)?
            } else {
                u64::from(endian.u32(table, value_at)?)
            };
            (data, usize::try_from(pointer).ok()?)
        };
        let value = match size {
            1 => u64::from(*source.get(at)?),
            2 => u64::from(endian.u16(source, at)?),
            4 => u64::from(endian.u32(source, at)?),
            _ => endian.u64(source, at)?,
        };
        entries.push(IfdEntryValue { tag, value });
    }
    let next_at = first_entry + count * entry_size;
    let next = if big {
        endian.u64(data, next_at)?
    } else {
        u64::from(endian.u32(data, next_at)?)
    };
    Some((entries, next))
}

/// A byte patch: write these bytes at this file offset.
pub(crate) type Patch = (usize, Vec<u8>);

/// The patch that makes the header's first-IFD pointer point at `ifd_offset`, so that a
/// decoder reading the patched bytes starts at that page without walking the chain.
pub(crate) fn first_ifd_patch(data: &[u8], ifd_offset: u64) -> Option<Patch> {
    let (endian, big, _) = header(data)?;
    Some(if big {
        (8, endian.bytes_u64(ifd_offset).to_vec())
    } else {
        (
            4,
            endian.bytes_u32(u32::try_from(ifd_offset).ok()?).to_vec(),
        )
    })
}

/// The patch that sets the single inline SHORT or LONG value of `tag` in the IFD at
/// `ifd_offset` to `value`. `None` when the tag is missing, has several values or another type.
pub(crate) fn inline_value_patch(
    data: &[u8],
    ifd_offset: u64,
    tag: u16,
    value: u16,
) -> Option<Patch> {
    let (endian, big, _) = header(data)?;
    let offset = usize::try_from(ifd_offset).ok()?;
    let (count, first_entry, entry_size, value_at) = if big {
        (endian.u64(data, offset)?, offset + 8, 20usize, 12usize)
    } else {
        (
            u64::from(endian.u16(data, offset)?),
            offset + 2,
            12usize,
            8usize,
        )
    };
    if count > MAX_ENTRIES {
        return None;
    }
    (0..count as usize).find_map(|i| {
        let e = first_entry + i * entry_size;
        if endian.u16(data, e)? != tag {
            return None;
        }
        let n = if big {
            endian.u64(data, e + 4)?
        } else {
            u64::from(endian.u32(data, e + 4)?)
        };
        // Inline values are left-justified in the value field, in the file's byte order.
        let bytes = match endian.u16(data, e + 2)? {
            3 => endian.bytes_u16(value).to_vec(),
            4 => endian.bytes_u32(u32::from(value)).to_vec(),
            _ => return None,
        };
        (n == 1).then_some((e + value_at, bytes))
    })
}

pub(crate) fn tag(entries: &[IfdEntryValue], tag: u16) -> Option<u64> {
    entries.iter().find(|e| e.tag == tag).map(|e| e.value)
}

/// The Orientation tag of the first IFD of an EXIF/TIFF block, if present and valid.
pub(crate) fn first_ifd_orientation(data: &[u8]) -> Option<u16> {
    let (endian, big, offset) = header(data)?;
    let (entries, _) = read_ifd(data, endian, big, offset)?;
    let value = tag(&entries, TAG_ORIENTATION)?;
    (1..=8).contains(&value).then_some(value as u16)
}

pub(super) fn detect(data: &[u8]) -> Result<Detected> {
    let bigtiff = data.get(2) == Some(&0x2B) || data.get(3) == Some(&0x2B);
    let ifds = read_ifd_chain(data, Format::Tiff)?;
    let mut pages = Vec::new();
    for (index, (ifd_offset, entries)) in ifds.iter().enumerate() {
        let subfile = tag(entries, TAG_NEW_SUBFILE_TYPE).unwrap_or(0);
        if subfile & 1 == 1 {
            continue; // a reduced-resolution copy (thumbnail), not a page
        }
        let dimension = |t| {
            tag(entries, t)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    Error::corrupt(
                        Format::Tiff,
                        format!("page {} has no valid size", index + 1),
                    )
                })
        };
        // A first strip (or tile) that starts past the end of the file: every reader fails on
        // it (libtiff: "Read error on strip 0"), so no decoder could use the page. (One that
        // only ends past it is read as far as it goes, with a warning.)
        let first_chunk = tag(entries, TAG_STRIP_OFFSETS)
            .zip(tag(entries, TAG_STRIP_BYTE_COUNTS))
            .or_else(|| tag(entries, TAG_TILE_OFFSETS).zip(tag(entries, TAG_TILE_BYTE_COUNTS)));
        if let Some((offset, len)) = first_chunk {
            if len > 0 && offset >= data.len() as u64 {
                return Err(Error::corrupt(
                    Format::Tiff,
                    format!(
                        "page {}: its first strip starts past the end of the file (truncated?)",
                        index + 1
                    ),
                ));
            }
        }
        pages.push(TiffPage {
            width: dimension(TAG_WIDTH)?,
            height: dimension(TAG_HEIGHT)?,
            compression: tag(entries, TAG_COMPRESSION).unwrap_or(1) as u16,
            photometric: tag(entries, TAG_PHOTOMETRIC).unwrap_or(1) as u16,
            bits_per_sample: tag(entries, TAG_BITS_PER_SAMPLE).unwrap_or(1) as u16,
            samples_per_pixel: tag(entries, TAG_SAMPLES_PER_PIXEL).unwrap_or(1) as u16,
            sample_format: tag(entries, TAG_SAMPLE_FORMAT).unwrap_or(1) as u16,
            predictor: tag(entries, TAG_PREDICTOR).unwrap_or(1) as u16,
            orientation: tag(entries, TAG_ORIENTATION)
                .filter(|v| (1..=8).contains(v))
                .unwrap_or(1) as u16,
            ifd_offset: *ifd_offset,
        });
    }
    let first = pages
        .first()
        .cloned()
        .ok_or_else(|| Error::corrupt(Format::Tiff, "no pages"))?;
    Ok(Detected {
        format: Format::Tiff,
        width: first.width,
        height: first.height,
        pages: pages.len() as u32,
        frames: None,
        animated: false,
        orientation: Orientation::from_exif(first.orientation),
        details: Details::Tiff(TiffInfo { bigtiff, pages }),
    })
}
