//! Names the common formats the API does not accept, so the refusal says what the file is.

/// A person-readable name for bytes that are none of the accepted formats.
pub(super) fn name(data: &[u8]) -> &'static str {
    let starts = |sig: &[u8]| data.starts_with(sig);
    if starts(b"GIF87a") || starts(b"GIF89a") {
        "GIF"
    } else if starts(b"BM") && is_bmp(data) {
        "BMP"
    } else if starts(b"\x00\x00\x00\x0CjP  \r\n\x87\n") {
        "JPEG 2000"
    } else if starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        "JPEG 2000 codestream"
    } else if starts(&[0xFF, 0x0A]) || starts(b"\x00\x00\x00\x0CJXL \r\n\x87\n") {
        "JPEG XL"
    } else if starts(b"8BPS") {
        "PSD (Photoshop)"
    } else if (starts(&[0, 0, 1, 0]) || starts(&[0, 0, 2, 0]))
        && data.len() >= 6
        && data[4..6] != [0, 0]
    {
        "ICO"
    } else if is_svg(data) {
        "SVG"
    } else if starts(b"PK\x03\x04") {
        "ZIP archive (or an Office document)"
    } else if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        "legacy Office document"
    } else if starts(b"{\\rtf") {
        "RTF"
    } else if starts(b"%!PS") {
        "PostScript"
    } else if data
        .iter()
        .take(1024)
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "plain text"
    } else {
        "unknown format"
    }
}

/// "BM" alone is too weak: also require a known DIB header size.
fn is_bmp(data: &[u8]) -> bool {
    matches!(
        data.get(14..18)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        Some(12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
    )
}

/// SVG is text: skip a BOM, whitespace, an XML declaration and comments; look for `<svg`.
fn is_svg(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let text = String::from_utf8_lossy(head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head));
    let trimmed = text.trim_start();
    (trimmed.starts_with("<?xml") || trimmed.starts_with("<svg") || trimmed.starts_with("<!"))
        && text.contains("<svg")
}
