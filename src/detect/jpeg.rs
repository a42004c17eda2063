//! JPEG: walks the marker segments up to the first scan.

use super::bytes::{be_u16, slice, u8_at};
use super::{exif, Details, Detected, JpegInfo};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;

/// Marker-level facts, also used by the decoder (ICC profile, Adobe transform).
#[derive(Debug, Clone, Default)]
pub(crate) struct JpegHeader {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub precision: u8,
    pub progressive: bool,
    pub arithmetic: bool,
    pub lossless: bool,
    pub hierarchical: bool,
    pub adobe_transform: Option<u8>,
    pub orientation: Orientation,
    /// Byte ranges before the first scan where a marker was due but other bytes stood: libjpeg
    /// skips them ("corrupt JPEG data: N extraneous bytes before marker"), so do we.
    pub extraneous: Vec<std::ops::Range<usize>>,
}

pub(crate) fn parse(data: &[u8]) -> Result<JpegHeader> {
    let corrupt = |what: &str| Error::corrupt(Format::Jpeg, what);
    let mut header = JpegHeader::default();
    let mut have_frame = false;
    let mut pos = 2; // after SOI
    loop {
        // libjpeg's next_marker(): skip bytes that are not 0xFF (and stuffed FF 00 pairs) as
        // extraneous, then any number of 0xFF fill bytes, then the marker code.
        let junk_start = pos;
        let truncated = || corrupt("truncated before the first scan");
        let marker = loop {
            while u8_at(data, pos).ok_or_else(truncated)? != 0xFF {
                pos += 1;
            }
            let fill_start = pos;
            while u8_at(data, pos).ok_or_else(truncated)? == 0xFF {
                pos += 1;
            }
            let code = data[pos];
            pos += 1;
            if code != 0 {
                if fill_start > junk_start {
                    header.extraneous.push(junk_start..fill_start);
                }
                break code;
            }
        };
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // no payload
            0xD9 => return Err(corrupt("image ends before any scan")),
            _ => {}
        }
        let length = be_u16(data, pos).ok_or_else(|| corrupt("truncated marker length"))? as usize;
        if length < 2 {
            return Err(corrupt("marker segment shorter than its length field"));
        }
        let payload = slice(data, pos + 2, length - 2)
            .ok_or_else(|| corrupt("truncated before the first scan"))?;
        match marker {
            // SOFn, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if payload.len() < 6 {
                    return Err(corrupt("frame header too short"));
                }
                header.precision = payload[0];
                header.height = u32::from(be_u16(payload, 1).unwrap_or(0));
                header.width = u32::from(be_u16(payload, 3).unwrap_or(0));
                header.components = payload[5];
                header.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                header.arithmetic = marker >= 0xC9;
                header.lossless = matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
                header.hierarchical = matches!(marker, 0xC5..=0xC7 | 0xCD..=0xCF);
                if header.width == 0 || header.height == 0 {
                    // A zero height means "defined later by DNL": legal, but nothing reads it.
                    return Err(corrupt("frame header gives a zero width or height"));
                }
                if !matches!(header.components, 1 | 3 | 4) {
                    return Err(corrupt(&format!("{} colour components", header.components)));
                }
                have_frame = true;
            }
            0xE1 if payload.starts_with(b"Exif\0\0") => {
                header.orientation = exif::orientation(payload);
            }
            0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                header.adobe_transform = Some(payload[11]);
            }
            0xDA => {
                if !have_frame {
                    return Err(corrupt("scan before the frame header"));
                }
                // In entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
                // so the first FF D9 after the scan starts is the end of this image (data
                // appended after it, like a Samsung trailer or an MPF image, is fine).
                if memchr::memmem::find(&data[pos..], &[0xFF, 0xD9]).is_none() {
                    return Err(corrupt(
                        "truncated: the image data ends without an end-of-image marker",
                    ));
                }
                return Ok(header);
            }
            _ => {}
        }
        pos += length;
    }
}

pub(super) fn detect(data: &[u8]) -> Result<Detected> {
    let h = parse(data)?;
    Ok(Detected {
        format: Format::Jpeg,
        width: h.width,
        height: h.height,
        pages: 1,
        frames: None,
        animated: false,
        orientation: h.orientation,
        details: Details::Jpeg(JpegInfo {
            components: h.components,
            progressive: h.progressive,
            adobe_transform: h.adobe_transform,
            precision: h.precision,
            arithmetic: h.arithmetic,
            lossless: h.lossless,
            hierarchical: h.hierarchical,
            extraneous_bytes: h.extraneous.iter().map(|r| r.len() as u64).sum(),
        }),
    })
}
