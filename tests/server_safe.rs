//! Issue 13, items 1–3: a file within budget passes through only when mainstream decoders read
//! it; otherwise it is converted (and the output decodes with a decoder other than the one we
//! encoded with), repaired, or refused with the precise kind. Fixtures: `fixtures/safe/`.

mod common;

use std::process::Command;

use common::{mean_abs_diff, read};
use mindee_prep::detect::Details;
use mindee_prep::{detect, prepare, Action, ErrorKind, Format, PrepareOptions};

fn prepared(name: &str) -> mindee_prep::Prepared {
    prepare(&read(name), &PrepareOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refused(name: &str) -> mindee_prep::Error {
    match prepare(&read(name), &PrepareOptions::default()) {
        Ok(p) => panic!("{name}: expected a refusal, got {:?}", p.report()),
        Err(e) => e,
    }
}

/// Decodes a JPEG with zune-jpeg (pure Rust), not the libjpeg-turbo we encode with.
fn zune_rgb(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(bytes));
    let pixels = decoder.decode().expect("zune-jpeg decodes the output");
    let (w, h) = decoder.dimensions().expect("size");
    assert_eq!(pixels.len(), w * h * 3, "RGB");
    (w as u32, h as u32, pixels)
}

fn png_rgb(name: &str) -> Vec<u8> {
    image::load_from_memory(&read(name))
        .expect("reference decodes")
        .into_rgb8()
        .into_raw()
}

/// Checks a TIFF output with libtiff (`tiffcp` decodes every page to write it uncompressed)
/// and returns what `tiffinfo` says about it.
fn libtiff_reads(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (input, copy) = (dir.path().join("out.tif"), dir.path().join("copy.tif"));
    std::fs::write(&input, bytes).unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd
            .output()
            .expect("libtiff-tools (tiffcp, tiffinfo) are installed by scripts/install-deps.sh");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "libtiff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(Command::new("tiffcp")
        .args(["-c", "none"])
        .arg(&input)
        .arg(&copy));
    run(Command::new("tiffinfo").arg(&input))
}

/// The first page of a TIFF, decoded by the `tiff` crate, as (colour type, samples).
fn tiff_page(bytes: &[u8]) -> (tiff::ColorType, Vec<u8>) {
    let mut decoder = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
    let color = decoder.colortype().unwrap();
    match decoder.read_image().unwrap() {
        tiff::decoder::DecodingResult::U8(data) => (color, data),
        _ => panic!("8-bit output"),
    }
}

#[test]
fn twelve_bit_jpeg_is_converted_to_8_bit_with_the_same_picture() {
    let found = detect(&read("safe/jpeg12.jpg")).unwrap();
    assert!(matches!(found.details, Details::Jpeg(ref j) if j.precision == 12));
    let p = prepared("safe/jpeg12.jpg");
    let r = p.report();
    assert_eq!(r.action, Action::Converted);
    assert_eq!(r.output_format, Format::Jpeg);
    assert_eq!(
        r.reason.as_deref(),
        Some("12-bit JPEG is not widely decodable")
    );
    assert_eq!((r.out_width, r.out_height), (128, 96));
    let out = detect(p.bytes()).unwrap();
    assert!(matches!(out.details, Details::Jpeg(ref j) if j.precision == 8 && !j.arithmetic));
    let (w, h, rgb) = zune_rgb(p.bytes());
    assert_eq!((w, h), (128, 96));
    // The 12-bit samples came from this 8-bit picture: the conversion must give it back, up
    // to the fixture's own coarse quantisation (about 5 levels on this noisy scene) and q85.
    // A wrong bit depth or colour conversion is off by 50 and more.
    let diff = mean_abs_diff(&rgb, &png_rgb("safe/jpeg12.reference.png"));
    assert!(diff < 8.0, "mean abs diff to the reference {diff}");
}

#[test]
fn junk_between_jpeg_markers_is_stripped_and_nothing_else_changes() {
    let original = read("safe/jpeg_junk.jpg");
    let found = detect(&original).unwrap();
    assert!(matches!(found.details, Details::Jpeg(ref j) if j.extraneous_bytes == 5));
    let p = prepared("safe/jpeg_junk.jpg");
    assert_eq!(p.report().action, Action::Repaired);
    assert!(p
        .report()
        .reason
        .as_deref()
        .unwrap()
        .starts_with("5 extraneous bytes"));
    let at = original.windows(5).position(|w| w == b"junk!").unwrap();
    let expected = [&original[..at], &original[at + 5..]].concat();
    assert!(p.bytes() == &expected[..], "only the junk went");
    // TurboJPEG, which stops on libjpeg's warning, reads the repaired file; so does zune-jpeg.
    let strict = turbojpeg::decompress(&original, turbojpeg::PixelFormat::RGB).unwrap_err();
    assert!(
        strict.to_string().contains("5 extraneous bytes"),
        "{strict}"
    );
    let repaired = turbojpeg::decompress(p.bytes(), turbojpeg::PixelFormat::RGB).unwrap();
    let (w, h, rgb) = zune_rgb(p.bytes());
    assert_eq!((w, h), (320, 240));
    let diff = mean_abs_diff(&rgb, &repaired.pixels);
    assert!(diff < 1.0, "zune-jpeg and libjpeg-turbo agree: {diff}");
    assert_eq!(detect(p.bytes()).unwrap().details, {
        let mut d = found.details.clone();
        if let Details::Jpeg(j) = &mut d {
            j.extraneous_bytes = 0;
        }
        d
    });
}

#[test]
fn png_with_a_wrong_ihdr_crc_is_corrupt_naming_the_chunk() {
    let err = refused("safe/png_bad_ihdr_crc.png");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.to_string().contains("IHDR chunk fails its CRC"),
        "{err}"
    );
}

#[test]
fn png_text_bomb_is_removed_and_the_rest_kept_byte_for_byte() {
    let found = detect(&read("safe/png_ztxt_bomb.png")).unwrap();
    assert!(
        matches!(found.details, Details::Png(ref p) if p.bomb.as_deref() == Some("zTXt chunk inflates to more than 1 MiB")),
        "{found:?}"
    );
    let p = prepared("safe/png_ztxt_bomb.png");
    assert_eq!(p.report().action, Action::Repaired);
    assert!(p.report().reason.as_deref().unwrap().contains("zTXt"));
    // The bomb was inserted into png_small.png: removing it gives that file back exactly.
    assert!(p.bytes() == &read("safe/png_small.png")[..]);
    image::load_from_memory(p.bytes()).expect("the image crate reads it");
}

#[test]
fn float_tiff_with_predictor_3_becomes_8_bit_tiff() {
    let p = prepared("safe/tiff_float_predictor3.tif");
    let r = p.report();
    assert_eq!(r.action, Action::Converted);
    assert_eq!(r.output_format, Format::Tiff);
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("32-bit floating-point samples on page 1"),
        "{r:?}"
    );
    let info = libtiff_reads(p.bytes());
    assert!(info.contains("Bits/Sample: 8"), "{info}");
    let (color, data) = tiff_page(p.bytes());
    assert_eq!(color, tiff::ColorType::Gray(8));
    // Fractions of white k/255 come back as the levels k.
    let reference = image::load_from_memory(&read("safe/tiff_float.reference.png"))
        .unwrap()
        .into_luma8()
        .into_raw();
    assert!(data == reference, "same levels");
}

#[test]
fn signed_tiled_cmyk_tiff_becomes_8_bit_rgb_tiff() {
    let p = prepared("safe/tiff_signed_cmyk_tiled.tif");
    let r = p.report();
    assert_eq!(r.action, Action::Converted);
    assert!(r
        .reason
        .as_deref()
        .unwrap()
        .contains("signed 8-bit samples"));
    libtiff_reads(p.bytes());
    let (color, data) = tiff_page(p.bytes());
    assert_eq!(color, tiff::ColorType::RGB(8));
    // A document: mostly white paper once the signed samples are read right.
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len() as f64;
    assert!(mean > 180.0, "mean {mean}");
}

#[test]
fn big_endian_bigtiff_becomes_classic_tiff_with_the_same_pixels() {
    let original = read("safe/bigtiff_be.tif");
    let p = prepared("safe/bigtiff_be.tif");
    assert_eq!(p.report().action, Action::Converted);
    assert!(p.report().reason.as_deref().unwrap().contains("BigTIFF"));
    let out = p.bytes();
    assert!(
        out.starts_with(b"II*\0") || out.starts_with(b"MM\0*"),
        "classic"
    );
    libtiff_reads(out);
    assert!(tiff_page(out) == tiff_page(&original), "same pixels");
}

#[test]
fn heif_burst_and_heif_with_a_track_become_a_jpeg_of_the_primary() {
    for (name, words) in [
        ("safe/heic_burst.heic", "2 more image(s)"),
        ("safe/heic_with_track.heic", "image sequence"),
    ] {
        let found = detect(&read(name)).unwrap();
        assert_eq!(found.format, Format::Heic, "{name}");
        assert!(!found.animated, "{name}: a still primary is there");
        let p = prepared(name);
        let r = p.report();
        assert_eq!(r.action, Action::Converted, "{name}");
        assert_eq!(r.output_format, Format::Jpeg, "{name}");
        assert!(
            r.reason.as_deref().unwrap().contains(words),
            "{name}: {r:?}"
        );
        let (w, h, _) = zune_rgb(p.bytes());
        assert_eq!((w, h), (256, 192), "{name}");
    }
    // A plain HEIC still image, and an iPhone-style grid with its thumbnail and tiles, pass.
    for name in ["heif/small.heic", "heif/grid_12mp.heic"] {
        let found = detect(&read(name)).unwrap();
        assert!(
            matches!(found.details, Details::Heif(ref h) if !h.tracks && h.other_images == 0),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn uncompressed_heif_is_undecodable_not_corrupt() {
    let err = refused("safe/heif_unci.heif");
    assert_eq!(err.kind(), ErrorKind::Undecodable, "{err}");
    let text = err.to_string();
    assert!(text.contains("uncompressed (unci)"), "{text}");
    assert!(
        text.contains("neither passed through nor converted"),
        "{text}"
    );
}

#[test]
fn damaged_encrypted_pdf_is_encrypted_pdf() {
    let err = refused("safe/pdf_encrypted_damaged.pdf");
    assert_eq!(err.kind(), ErrorKind::EncryptedPdf, "{err}");
}

#[test]
fn over_budget_variants_are_downscaled_to_safe_outputs() {
    // With a tiny budget the same files take the downscale path, which re-encodes anyway.
    let small = PrepareOptions {
        max_megapixels: 0.005,
        target_megapixels: 0.004,
        ..PrepareOptions::default()
    };
    for name in ["safe/jpeg12.jpg", "safe/jpeg_junk.jpg"] {
        let p = prepare(&read(name), &small).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.report().action, Action::Downscaled, "{name}");
        let (w, h, _) = zune_rgb(p.bytes());
        assert!(u64::from(w) * u64::from(h) <= 5_000, "{name}: {w}x{h}");
    }
    // Refusals hold whatever the budget.
    let err = prepare(&read("safe/png_bad_ihdr_crc.png"), &small).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
}
