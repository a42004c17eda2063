//! PNG: `IHDR`, then the chunks before the first `IDAT` (where `acTL` marks an APNG).

use super::bytes::{be_u32, slice};
use super::{Details, Detected, PngInfo};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;

pub(super) const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

pub(super) fn detect(data: &[u8]) -> Result<Detected> {
    let corrupt = |what: &str| Error::corrupt(Format::Png, what);
    if slice(data, 12, 4) != Some(b"IHDR") {
        return Err(corrupt("the first chunk is not IHDR"));
    }
    let ihdr = slice(data, 16, 13).ok_or_else(|| corrupt("truncated IHDR"))?;
    let width = be_u32(ihdr, 0).unwrap_or(0);
    let height = be_u32(ihdr, 4).unwrap_or(0);
    let (bit_depth, color_type) = (ihdr[8], ihdr[9]);
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(corrupt("invalid width or height in IHDR"));
    }
    let valid_depth = match color_type {
        0 => matches!(bit_depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(bit_depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(bit_depth, 8 | 16),
        _ => false,
    };
    if !valid_depth {
        return Err(corrupt(&format!(
            "invalid colour type {color_type} with bit depth {bit_depth}"
        )));
    }

    // Walk every chunk header (lengths only, no data read) to IEND: an APNG announces itself
    // with acTL before the first IDAT, and a file that ends before IEND is truncated.
    let mut frames = None;
    let mut seen_idat = false;
    let mut pos = 8;
    loop {
        let (Some(length), Some(kind)) = (be_u32(data, pos), slice(data, pos + 4, 4)) else {
            return Err(corrupt("truncated: the file ends before the IEND chunk"));
        };
        match kind {
            b"IEND" => break,
            b"IDAT" => seen_idat = true,
            b"acTL" if !seen_idat => {
                frames = Some(be_u32(data, pos + 8).ok_or_else(|| corrupt("truncated acTL"))?);
            }
            _ => {}
        }
        pos = pos
            .checked_add(12 + length as usize)
            .ok_or_else(|| corrupt("chunk length overflows"))?;
    }
    if !seen_idat {
        return Err(corrupt("no image data (IDAT)"));
    }
    Ok(Detected {
        format: Format::Png,
        width,
        height,
        pages: 1,
        frames,
        animated: frames.is_some(),
        orientation: Orientation::Normal,
        details: Details::Png(PngInfo {
            bit_depth,
            color_type,
        }),
    })
}
