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
    let mut bad_crc = None;
    let mut text = TextBudget::default();
    for chunk in chunks(data) {
        let chunk = chunk.map_err(corrupt)?;
        match chunk.kind {
            b"IEND" => break,
            b"IDAT" => seen_idat = true,
            b"acTL" if !seen_idat => {
                frames = Some(be_u32(chunk.data, 0).ok_or_else(|| corrupt("truncated acTL"))?);
            }
            _ => {}
        }
        if bad_crc.is_none() && is_checked_critical(chunk.kind) && !chunk.crc_ok() {
            bad_crc = Some(String::from_utf8_lossy(chunk.kind).into_owned());
        }
        text.take(&chunk);
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
            bad_crc,
            bomb: text.bomb,
        }),
    })
}

/// One chunk: its type, data and stored CRC, at `start` (the length field) in the file.
pub(crate) struct Chunk<'a> {
    pub start: usize,
    pub kind: &'a [u8],
    pub data: &'a [u8],
    crc: u32,
}

impl Chunk<'_> {
    /// The CRC covers the type and the data.
    fn crc_ok(&self) -> bool {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(self.kind);
        hasher.update(self.data);
        hasher.finalize() == self.crc
    }

    /// Offset just past this chunk's CRC.
    pub fn end(&self) -> usize {
        self.start + 12 + self.data.len()
    }
}

/// The chunks after the signature, up to and including IEND; an error for a chunk that runs
/// past the end (the file is truncated before IEND).
pub(crate) fn chunks(
    data: &[u8],
) -> impl Iterator<Item = std::result::Result<Chunk<'_>, &'static str>> {
    let mut pos = 8usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let parsed = (|| {
            let length = be_u32(data, pos).ok_or(TRUNCATED)? as usize;
            let kind = slice(data, pos + 4, 4).ok_or(TRUNCATED)?;
            let body = slice(data, pos + 8, length).ok_or(TRUNCATED)?;
            let crc = be_u32(data, pos + 8 + length).ok_or(TRUNCATED)?;
            let chunk = Chunk {
                start: pos,
                kind,
                data: body,
                crc,
            };
            pos = chunk.end();
            Ok(chunk)
        })();
        done = parsed.as_ref().map_or(true, |c| c.kind == b"IEND");
        Some(parsed)
    })
}

const TRUNCATED: &str = "truncated: the file ends before the IEND chunk";

/// libpng refuses a file whose critical chunk fails its CRC (IEND, empty, is left out: some
/// writers get it wrong and every decoder ignores it).
fn is_checked_critical(kind: &[u8]) -> bool {
    matches!(kind, b"IHDR" | b"PLTE" | b"IDAT")
}

/// Pillow's limits for text and ICC chunks (`ImageFile.SAFEBLOCK`, `MAX_TEXT_MEMORY`): one
/// compressed chunk may inflate to 1 MiB, all text together to 64 MiB. Past them Pillow
/// refuses the whole file, so such a chunk makes the file unsafe to hand over.
pub(crate) const MAX_CHUNK_INFLATED: u64 = 1 << 20;
const MAX_TEXT_TOTAL: u64 = 64 << 20;

/// Text and ICC chunks inflated under a running budget: the work is bounded by the caps,
/// whatever the file holds.
#[derive(Default)]
pub(crate) struct TextBudget {
    total: u64,
    /// The first chunk found over a limit, described.
    pub bomb: Option<String>,
}

impl TextBudget {
    /// Accounts for `chunk`; returns true when it is over a limit (a bomb).
    pub(crate) fn take(&mut self, chunk: &Chunk) -> bool {
        let kind = String::from_utf8_lossy(chunk.kind);
        let compressed = match chunk.kind {
            b"tEXt" => None,
            b"zTXt" | b"iCCP" => {
                // keyword NUL method data
                let nul = chunk.data.iter().position(|&b| b == 0);
                Some(
                    nul.and_then(|n| chunk.data.get(n + 2..))
                        .unwrap_or_default(),
                )
            }
            b"iTXt" => itxt_compressed(chunk.data),
            _ => return false,
        };
        let size = match compressed {
            None => chunk.data.len() as u64,
            Some(stream) => {
                let cap = MAX_CHUNK_INFLATED.min(MAX_TEXT_TOTAL.saturating_sub(self.total)) + 1;
                inflated_size(stream, cap)
            }
        };
        self.total += size;
        let why = if compressed.is_some() && size > MAX_CHUNK_INFLATED {
            Some(format!("{kind} chunk inflates to more than 1 MiB"))
        } else if self.total > MAX_TEXT_TOTAL {
            Some(format!(
                "text chunks add up to more than 64 MiB (at a {kind} chunk)"
            ))
        } else {
            None
        };
        let bomb = why.is_some();
        if self.bomb.is_none() {
            self.bomb = why;
        }
        bomb
    }
}

/// The compressed text of an iTXt chunk, or `None` when it is stored uncompressed.
fn itxt_compressed(data: &[u8]) -> Option<&[u8]> {
    // keyword NUL flag method language NUL translated-keyword NUL text
    let nul = data.iter().position(|&b| b == 0)?;
    if data.get(nul + 1).copied()? == 0 {
        return None;
    }
    let rest = data.get(nul + 3..)?;
    let language_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[language_end + 1..];
    let keyword_end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[keyword_end + 1..])
}

/// Bytes the zlib `stream` inflates to, counting at most `cap` (a damaged stream counts what
/// came out before the damage).
fn inflated_size(stream: &[u8], cap: u64) -> u64 {
    let mut inflater = flate2::Decompress::new(true);
    let mut buffer = [0u8; 16 * 1024];
    let mut input = stream;
    loop {
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater.decompress(input, &mut buffer, flate2::FlushDecompress::None);
        let consumed = (inflater.total_in() - before.0) as usize;
        input = &input[consumed.min(input.len())..];
        let produced = inflater.total_out() - before.1;
        match status {
            Ok(flate2::Status::StreamEnd) | Err(_) => return inflater.total_out(),
            _ if inflater.total_out() >= cap => return inflater.total_out(),
            _ if consumed == 0 && produced == 0 => return inflater.total_out(),
            _ => {}
        }
    }
}
