//! PDF: the `%PDF-` header (anywhere in the first 1024 bytes, as Adobe readers accept) and a
//! scan for an `/Encrypt` entry. Page counting needs the object graph, so it is done by the PDF
//! codec; detection gives the count from the page-tree objects it can see uncompressed.

use super::{Details, Detected, PdfInfo};
use crate::error::Result;
use crate::format::Format;
use crate::orientation::Orientation;

const HEADER: &[u8] = b"%PDF-";
const HEADER_WINDOW: usize = 1024;

/// Offset of `%PDF-` within the first 1024 bytes.
pub(super) fn header_offset(data: &[u8]) -> Option<usize> {
    let window = &data[..data.len().min(HEADER_WINDOW)];
    find(window, HEADER)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Occurrences of `name` as a whole PDF name (not a prefix of a longer name like
/// `/EncryptMetadata` or `/Pages`).
fn name_occurrences<'a>(data: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || loop {
        let at = from + find(data.get(from..)?, name)?;
        from = at + name.len();
        let next = data.get(from).copied().unwrap_or(b' ');
        if !next.is_ascii_alphanumeric() {
            return Some(at);
        }
    })
}

/// Counts `/Type /Page` objects (not `/Pages`) visible outside compressed object streams.
fn count_page_objects(data: &[u8]) -> u32 {
    name_occurrences(data, b"/Page")
        .filter(|&at| {
            let before = &data[at.saturating_sub(8)..at];
            // `/Type /Page`, `/Type/Page`, with any whitespace in between.
            let trimmed: Vec<u8> = before
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            trimmed.ends_with(b"/Type")
        })
        .count() as u32
}

pub(super) fn detect(data: &[u8], offset: usize) -> Result<Detected> {
    let version: String = data[offset + HEADER.len()..]
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .map(|&b| b as char)
        .collect();
    let encrypted = name_occurrences(data, b"/Encrypt").next().is_some();
    Ok(Detected {
        format: Format::Pdf,
        width: 0,
        height: 0,
        pages: count_page_objects(data),
        frames: None,
        animated: false,
        orientation: Orientation::Normal,
        details: Details::Pdf(PdfInfo {
            version,
            header_offset: offset,
            encrypted,
        }),
    })
}
