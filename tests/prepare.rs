//! The raster path end to end: pass-through, downscaling, orientation, colour, refusals.

mod common;

use common::{decode_rgb, mean_abs_diff, megapixels, read, shrink_rgb};
use mindee_prep::{prepare, prepare_batch, Action, ErrorKind, Format, PrepareOptions};

fn prepared(name: &str) -> mindee_prep::Prepared {
    prepare(&read(name), &PrepareOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Checks the budget invariants on a downscaled output and returns its decoded pixels.
fn assert_downscaled(name: &str, format: Format) -> (u32, u32, Vec<u8>) {
    let p = prepared(name);
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled, "{name}");
    assert_eq!(r.output_format, format, "{name}");
    let mp = megapixels(r.out_width, r.out_height);
    assert!((3.0..=5.0).contains(&mp), "{name}: {mp} MP");
    let (in_ratio, out_ratio) = (
        f64::from(r.width) / f64::from(r.height),
        f64::from(r.out_width) / f64::from(r.out_height),
    );
    assert!(
        (in_ratio - out_ratio).abs() * f64::from(r.out_height) <= 1.0,
        "{name}: aspect"
    );
    let decoded = decode_rgb(p.bytes());
    assert_eq!(
        (decoded.0, decoded.1),
        (r.out_width, r.out_height),
        "{name}: decodes at the reported size"
    );
    decoded
}

#[test]
fn within_budget_passes_through_byte_identical() {
    for name in [
        "jpeg/small_2mp.jpg",
        "png/small_rgb.png",
        "webp/small_lossy.webp",
        "heif/small.heic",
    ] {
        let original = read(name);
        let p = prepare(&original, &PrepareOptions::default()).unwrap();
        assert_eq!(p.report().action, Action::Passthrough, "{name}");
        assert_eq!(p.bytes(), &original[..], "{name}");
    }
}

#[test]
fn large_jpeg_is_scaled_to_about_4_mp() {
    let (w, h, _) = assert_downscaled("jpeg/large_24mp.jpg", Format::Jpeg);
    assert_eq!((w, h), (2450, 1633));
}

#[test]
fn every_jpeg_variant_downscales() {
    for name in [
        "jpeg/progressive_8mp.jpg",
        "jpeg/gray_8mp.jpg",
        "jpeg/cmyk_adobe_6mp.jpg",
    ] {
        assert_downscaled(name, Format::Jpeg);
    }
}

#[test]
fn gray_jpeg_stays_gray() {
    let p = prepared("jpeg/gray_8mp.jpg");
    let header = turbojpeg::read_header(p.bytes()).unwrap();
    assert_eq!(header.colorspace, turbojpeg::Colorspace::Gray);
}

#[test]
fn adobe_cmyk_matches_the_reference_rendering() {
    let out = decode_rgb(prepared("jpeg/cmyk_adobe_6mp.jpg").bytes());
    let reference = decode_rgb(&read("jpeg/cmyk_adobe_6mp.reference.png"));
    let ours = shrink_rgb(&out, reference.0, reference.1);
    let diff = mean_abs_diff(&ours, &reference.2);
    assert!(
        diff < 6.0,
        "mean difference {diff} to the reference (inverted CMYK would be ~100)"
    );
}

#[test]
fn eight_orientations_give_the_same_upright_picture() {
    let reference = decode_rgb(&read("jpeg/orient_upright.reference.png"));
    for n in 1..=8 {
        let name = format!("jpeg/orient_{n}.jpg");
        let p = prepared(&name);
        let out = decode_rgb(p.bytes());
        assert!(
            out.0 > out.1,
            "{name}: upright is landscape, got {}×{}",
            out.0,
            out.1
        );
        let diff = mean_abs_diff(&shrink_rgb(&out, reference.0, reference.1), &reference.2);
        assert!(
            diff < 6.0,
            "{name}: mean difference {diff} to the upright reference"
        );
        // No EXIF (so no orientation tag) is left to apply a second time.
        assert!(
            !p.bytes().windows(6).any(|w| w == b"Exif\0\0"),
            "{name} still has EXIF"
        );
    }
}

#[test]
fn png_variants_stay_png_with_alpha_kept() {
    for name in [
        "png/rgb8_6mp.png",
        "png/rgb16_6mp.png",
        "png/gray8_6mp.png",
        "png/gray16_6mp.png",
        "png/palette_6mp.png",
    ] {
        assert_downscaled(name, lossless_output(name));
    }
    let p = prepared("png/rgba8_6mp.png");
    if p.output_format() == Format::Png {
        let img = image::load_from_memory(p.bytes()).unwrap();
        assert!(img.color().has_alpha(), "alpha kept");
        assert!(
            img.to_rgba8().pixels().any(|px| px[3] < 255),
            "transparent areas kept"
        );
    } else {
        // PNG grew it: JPEG, with the transparent areas composited on white.
        let (_, _, rgb) =
            assert_downscaled("png/rgba8_6mp.png", lossless_output("png/rgba8_6mp.png"));
        assert!(
            rgb.chunks_exact(3).any(|px| px.iter().all(|&v| v > 245)),
            "transparent areas turn white"
        );
    }
    let img = image::load_from_memory(prepared("png/gray16_6mp.png").bytes()).unwrap();
    assert_eq!(
        img.color(),
        image::ColorType::L8,
        "gray stays gray, 16 → 8 bit"
    );
}

/// A lossless input comes out as PNG, unless PNG would grow it (a photo saved losslessly):
/// then the guard moves on to JPEG, which must then be smaller than the PNG would have been,
/// and say why when it is still bigger than the input.
fn lossless_output(name: &str) -> Format {
    let r = prepared(name).report().clone();
    let encoding = r.encoding.clone().unwrap_or_default();
    match r.output_format {
        Format::Png => assert!(encoding.starts_with("png"), "{name}: {encoding}"),
        Format::Jpeg => {
            assert!(encoding.starts_with("jpeg"), "{name}: {encoding}");
            let png_only = PrepareOptions {
                output_format: mindee_prep::OutputFormat::Png,
                ..PrepareOptions::default()
            };
            let png = prepare(&read(name), &png_only).unwrap();
            assert!(png.report().bytes_out > r.bytes_in, "{name}: PNG grew it");
            assert!(
                r.bytes_out < png.report().bytes_out,
                "{name}: JPEG is smaller"
            );
            assert!(
                r.bytes_out <= r.bytes_in || r.reason.is_some(),
                "{name}: bigger than the input without a reason"
            );
        }
        other => panic!("{name}: {other:?}"),
    }
    r.output_format
}

#[test]
fn webp_lossy_goes_to_jpeg_and_lossless_to_png() {
    assert_downscaled("webp/lossy_6mp.webp", Format::Jpeg);
    assert_downscaled(
        "webp/lossless_6mp.webp",
        lossless_output("webp/lossless_6mp.webp"),
    );
    // Alpha is composited on white when the output is JPEG.
    let (_, _, rgb) = assert_downscaled("webp/alpha_lossy_6mp.webp", Format::Jpeg);
    assert!(
        rgb.chunks_exact(3).any(|px| px.iter().all(|&v| v > 245)),
        "transparent areas turn white"
    );
}

#[test]
fn refusals_have_stable_kinds() {
    let opts = PrepareOptions::default();
    for (name, kind) in [
        ("webp/animated.webp", ErrorKind::AnimatedImage),
        ("webp/animated_flagless.webp", ErrorKind::AnimatedImage),
        ("png/apng_animated.png", ErrorKind::AnimatedImage),
        ("other/image.gif", ErrorKind::UnsupportedFormat),
        ("other/image.bmp", ErrorKind::UnsupportedFormat),
        ("heif/image.avif", ErrorKind::UnsupportedFormat),
        ("other/empty.bin", ErrorKind::EmptyFile),
        ("bad/corrupt.jpg", ErrorKind::Corrupt),
        ("bad/truncated.png", ErrorKind::Corrupt),
        ("bad/corrupt_png_crc.png", ErrorKind::Corrupt),
        ("bad/truncated.webp", ErrorKind::Corrupt),
        ("bad/corrupt_header.webp", ErrorKind::Corrupt),
    ] {
        let err = prepare(&read(name), &opts)
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert_eq!(err.kind(), kind, "{name}: {err}");
    }
}

#[test]
fn truncated_jpeg_over_budget_is_corrupt() {
    let bytes = read("jpeg/large_24mp.jpg");
    let err = prepare(&bytes[..bytes.len() / 3], &PrepareOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn batch_keeps_order_and_isolates_failures() {
    let names = [
        "jpeg/small_2mp.jpg",
        "bad/corrupt.jpg",
        "webp/animated.webp",
        "png/small_rgb.png",
    ];
    let paths: Vec<_> = names.iter().map(|n| common::fixture(n)).collect();
    let items = prepare_batch(&paths, &PrepareOptions::default());
    assert_eq!(items.len(), 4);
    for (item, path) in items.iter().zip(&paths) {
        assert_eq!(&item.path, path);
    }
    let ok: Vec<bool> = items.iter().map(|i| i.result.is_ok()).collect();
    assert_eq!(ok, [true, false, false, true]);
}

#[test]
fn custom_budget_options_are_used() {
    let opts = PrepareOptions {
        max_megapixels: 1.0,
        target_megapixels: 0.5,
        ..PrepareOptions::default()
    };
    let p = prepare(&read("jpeg/small_2mp.jpg"), &opts).unwrap();
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled);
    assert!((0.45..=0.55).contains(&megapixels(r.out_width, r.out_height)));
    let bad = PrepareOptions {
        jpeg_quality: 0,
        ..PrepareOptions::default()
    };
    assert_eq!(
        prepare(&read("jpeg/small_2mp.jpg"), &bad)
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
}

/// Over-budget JPEGs stream through libjpeg row by row: missing data must still be refused,
/// while the recoveries viewers make silently (junk bytes before a marker) must not be.
#[test]
fn jpeg_with_missing_data_is_refused_and_junk_before_a_marker_is_not() {
    // A cut-off upload with an EOI glued on: the header walk is happy, the scan is not.
    let whole = read("jpeg/large_24mp.jpg");
    let mut cut = whole[..whole.len() * 2 / 5].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let err = prepare(&cut, &PrepareOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("ends early"), "{err}");

    // Three stray bytes before the final EOI of a progressive file: libjpeg warns
    // ("extraneous bytes before marker") and the picture is complete.
    let original = read("jpeg/progressive_8mp.jpg");
    assert_eq!(&original[original.len() - 2..], &[0xFF, 0xD9]);
    let mut junk = original[..original.len() - 2].to_vec();
    junk.extend_from_slice(&[0x12, 0x34, 0x56, 0xFF, 0xD9]);
    let p = prepare(&junk, &PrepareOptions::default()).unwrap();
    assert_eq!(p.report().action, Action::Downscaled);
    let clean = prepare(&original, &PrepareOptions::default()).unwrap();
    assert_eq!(
        p.bytes(),
        clean.bytes(),
        "the junk changes nothing in the picture"
    );
}
