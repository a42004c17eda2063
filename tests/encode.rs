//! Encodings chosen by content (issue 11): fax pages stay G4 and open in libtiff, JPEGs are
//! never re-saved above their own quality, palette PNGs stay palette, the guard keeps the
//! smaller candidate, and `--output-format` is honoured.

mod common;

use std::io::Cursor;
use std::process::Command;

use common::read;
use mindee_prep::encoding::jpeg_quality;
use mindee_prep::{prepare, Action, Format, OutputFormat, PrepareOptions};

/// Tag values of the first IFD of a little-endian classic TIFF (first value of each entry).
fn first_ifd(bytes: &[u8]) -> Vec<(u16, u32)> {
    assert_eq!(&bytes[..4], b"II*\0", "little-endian classic TIFF");
    let at = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    (0..n)
        .map(|i| {
            let e = &bytes[at + 2 + 12 * i..at + 14 + 12 * i];
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let kind = u16::from_le_bytes([e[2], e[3]]);
            let value = if kind == 3 {
                u32::from(u16::from_le_bytes([e[8], e[9]]))
            } else {
                u32::from_le_bytes([e[8], e[9], e[10], e[11]])
            };
            (tag, value)
        })
        .collect()
}

fn tag(ifd: &[(u16, u32)], tag: u16) -> Option<u32> {
    ifd.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
}

#[test]
fn a_g4_page_stays_g4_and_libtiff_decodes_it() {
    let input = read("tiff/g4_fillorder2.tif");
    let p = prepare(&input, &PrepareOptions::default()).unwrap();
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled);
    assert_eq!(r.encoding.as_deref(), Some("tiff_g4"));
    assert!(
        r.bytes_out < r.bytes_in,
        "{} -> {} bytes",
        r.bytes_in,
        r.bytes_out
    );
    let ifd = first_ifd(p.bytes());
    assert_eq!(tag(&ifd, 259), Some(4), "Compression: CCITT G4");
    assert_eq!(tag(&ifd, 258), Some(1), "1 bit per sample");

    // libtiff reads every strip back (tiffcp -c none re-codes the page uncompressed).
    let dir = tempfile::tempdir().unwrap();
    let (g4, plain) = (dir.path().join("g4.tif"), dir.path().join("plain.tif"));
    std::fs::write(&g4, p.bytes()).unwrap();
    let out = Command::new("tiffcp")
        .args(["-c", "none"])
        .arg(&g4)
        .arg(&plain)
        .output()
        .expect("tiffcp (libtiff-tools) must be installed: scripts/install-deps.sh does it");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "libtiff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = std::fs::read(&plain).unwrap();
    let ifd = first_ifd(&raw);
    let (w, h) = (tag(&ifd, 256).unwrap(), tag(&ifd, 257).unwrap());
    assert_eq!((w, h), (r.out_width, r.out_height));
    let offset = tag(&ifd, 273).unwrap() as usize;
    let row = w.div_ceil(8) as usize;
    let bits = &raw[offset..offset + row * h as usize];
    // WhiteIsZero: set bits are ink. A text page: some ink, mostly paper.
    let ink: u32 = bits.iter().map(|b| b.count_ones()).sum();
    let share = f64::from(ink) / f64::from(w * h);
    assert!((0.005..0.3).contains(&share), "ink share {share}");

    // And our own decoder reads the G4 output the same way (within budget: passes through,
    // so force a decode with a smaller budget).
    let small = PrepareOptions {
        max_megapixels: 2.0,
        target_megapixels: 1.5,
        ..PrepareOptions::default()
    };
    let again = prepare(p.bytes(), &small).unwrap();
    assert_eq!(again.report().action, Action::Downscaled);
    // Scaled again, its strokes get too thin for G4: 4-bit gray then (the stroke rule).
    assert!(again
        .report()
        .encoding
        .as_deref()
        .unwrap()
        .starts_with("tiff_"));
}

#[test]
fn a_q60_jpeg_is_not_re_encoded_above_q60() {
    // A real photo, re-saved at q60 (6 MP: over budget).
    let photo =
        turbojpeg::decompress(&read("jpeg/exif_gps_6mp.jpg"), turbojpeg::PixelFormat::RGB).unwrap();
    let q60 = turbojpeg::compress(photo.as_deref(), 60, turbojpeg::Subsamp::Sub2x2).unwrap();
    assert_eq!(jpeg_quality(&q60), Some(60));
    let p = prepare(&q60, &PrepareOptions::default()).unwrap();
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled);
    assert_eq!(r.encoding.as_deref(), Some("jpeg_q60"));
    let out_q = jpeg_quality(p.bytes()).unwrap();
    assert!(out_q <= 60, "re-encoded at q{out_q}");
    assert!(r.bytes_out < r.bytes_in);
    // A lower --quality still wins.
    let low = PrepareOptions {
        jpeg_quality: 40,
        ..PrepareOptions::default()
    };
    assert_eq!(jpeg_quality(prepare(&q60, &low).unwrap().bytes()), Some(40));
}

#[test]
fn a_palette_png_stays_palette() {
    let p = prepare(&read("png/palette_6mp.png"), &PrepareOptions::default()).unwrap();
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled);
    assert_eq!(r.output_format, Format::Png);
    assert!(
        r.encoding.as_deref().is_some_and(|e| e.contains("palette")),
        "{:?}",
        r.encoding
    );
    let decoder = png::Decoder::new(Cursor::new(p.bytes()));
    let reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().color_type, png::ColorType::Indexed);
    assert!(reader.info().palette.as_ref().unwrap().len() <= 3 * 256);
}

#[test]
fn the_guard_picks_the_smaller_candidate() {
    // A PNG photo: the PNG candidate comes out bigger than the input, JPEG does not.
    let input = read("png/rgb8_6mp.png");
    let p = prepare(&input, &PrepareOptions::default()).unwrap();
    let r = p.report();
    let as_png = prepare(
        &input,
        &PrepareOptions {
            output_format: OutputFormat::Png,
            ..PrepareOptions::default()
        },
    )
    .unwrap();
    assert_eq!(as_png.report().output_format, Format::Png);
    assert!(
        as_png.report().bytes_out > r.bytes_in,
        "the fixture makes PNG grow"
    );
    assert_eq!(r.output_format, Format::Jpeg, "{:?}", r.encoding);
    assert!(
        r.bytes_out < as_png.report().bytes_out,
        "the smaller candidate"
    );
    // Both grow this text-heavy 6 MP page: the report gives every size and what the smaller
    // JPEG that was measured (and not used) would cost.
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("no encoding is smaller than the input")
            && reason.contains(&format!("jpeg_q85 {}", r.bytes_out))
            && reason.contains("jpeg_q50")
            && reason.contains("blurs small text"),
        "{reason}"
    );
}

#[test]
fn output_format_keep_and_jpeg_are_honoured() {
    let keep = PrepareOptions {
        output_format: OutputFormat::Keep,
        ..PrepareOptions::default()
    };
    let p = prepare(&read("png/rgb8_6mp.png"), &keep).unwrap();
    assert_eq!(p.report().output_format, Format::Png);
    // A PNG kept as PNG that grows says so.
    assert!(p.report().reason.is_some(), "{:?}", p.report());
    let jpeg = PrepareOptions {
        output_format: OutputFormat::Jpeg,
        ..PrepareOptions::default()
    };
    let p = prepare(&read("png/palette_6mp.png"), &jpeg).unwrap();
    assert_eq!(p.report().output_format, Format::Jpeg);
    assert!(p.bytes().starts_with(&[0xFF, 0xD8]));
}
