//! WebP: the RIFF chunk list. Animation is the VP8X flag *or* any `ANIM`/`ANMF` chunk, since
//! some writers get the flag wrong.

use super::bytes::{le_u16, le_u24, le_u32, slice};
use super::{exif, Details, Detected, WebpInfo};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;

const VP8X_ANIMATION: u8 = 0x02;
const VP8X_ALPHA: u8 = 0x10;

pub(super) fn detect(data: &[u8]) -> Result<Detected> {
    let corrupt = |what: &str| Error::corrupt(Format::Webp, what);
    let declared = le_u32(data, 4).map_or(0, |n| n as usize).saturating_add(8);
    if declared > data.len() {
        return Err(corrupt(&format!(
            "truncated: the RIFF header declares {declared} bytes but the file has {}",
            data.len()
        )));
    }
    let riff_end = declared;

    let mut size = None; // from VP8X (canvas) or the single bitstream chunk
    let mut extended = false;
    let mut flag_animated = false;
    let mut alpha = false;
    let mut lossless = None;
    let mut frames = 0u32;
    let mut has_anim = false;
    let mut orientation = Orientation::Normal;

    let mut pos = 12;
    while pos + 8 <= riff_end {
        let kind = slice(data, pos, 4).unwrap_or_default();
        let length = le_u32(data, pos + 4).unwrap_or(0) as usize;
        let body = pos + 8;
        if body.saturating_add(length) > riff_end {
            return Err(corrupt(&format!(
                "truncated: chunk '{}' runs past the end of the file",
                String::from_utf8_lossy(kind)
            )));
        }
        // A chunk may be cut short by truncation; parse what is there only if it is whole.
        let payload = slice(data, body, length);
        match kind {
            b"VP8X" => {
                let p = payload.ok_or_else(|| corrupt("truncated VP8X chunk"))?;
                if p.len() < 10 {
                    return Err(corrupt("VP8X chunk too short"));
                }
                extended = true;
                flag_animated = p[0] & VP8X_ANIMATION != 0;
                alpha |= p[0] & VP8X_ALPHA != 0;
                let w = le_u24(p, 4).unwrap_or(0) + 1;
                let h = le_u24(p, 7).unwrap_or(0) + 1;
                size = Some((w, h));
            }
            b"VP8 " => {
                let p = slice(data, body, 10).ok_or_else(|| corrupt("truncated VP8 chunk"))?;
                if p[3..6] != [0x9D, 0x01, 0x2A] {
                    return Err(corrupt("bad VP8 start code"));
                }
                let w = u32::from(le_u16(p, 6).unwrap_or(0) & 0x3FFF);
                let h = u32::from(le_u16(p, 8).unwrap_or(0) & 0x3FFF);
                lossless.get_or_insert(false);
                size.get_or_insert((w, h));
            }
            b"VP8L" => {
                let p = slice(data, body, 5).ok_or_else(|| corrupt("truncated VP8L chunk"))?;
                if p[0] != 0x2F {
                    return Err(corrupt("bad VP8L signature"));
                }
                let bits = le_u32(p, 1).unwrap_or(0);
                let w = (bits & 0x3FFF) + 1;
                let h = ((bits >> 14) & 0x3FFF) + 1;
                alpha |= (bits >> 28) & 1 == 1;
                lossless.get_or_insert(true);
                size.get_or_insert((w, h));
            }
            b"ALPH" => alpha = true,
            b"ANIM" => has_anim = true,
            b"ANMF" => {
                frames += 1;
                // The first frame's bitstream says lossy or lossless (offset 16 = frame data).
                if lossless.is_none() {
                    if let Some(sub) = slice(data, body + 16, 4) {
                        lossless = Some(sub == b"VP8L");
                    }
                }
            }
            b"EXIF" => {
                if let Some(p) = payload {
                    orientation = exif::orientation(p);
                }
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body.saturating_add(length).saturating_add(length & 1);
    }

    let animated = flag_animated || has_anim || frames > 0;
    let (width, height) = size.ok_or_else(|| corrupt("no VP8, VP8L or VP8X chunk"))?;
    if width == 0 || height == 0 {
        return Err(corrupt("zero width or height"));
    }
    if !animated && lossless.is_none() {
        return Err(corrupt("no image bitstream (VP8 or VP8L chunk)"));
    }
    Ok(Detected {
        format: Format::Webp,
        width,
        height,
        pages: 1,
        frames: animated.then_some(frames.max(1)),
        animated,
        orientation,
        details: Details::Webp(WebpInfo {
            lossless: lossless.unwrap_or(false),
            alpha,
            extended,
        }),
    })
}
