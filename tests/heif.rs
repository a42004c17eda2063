//! HEIC / HEIF through libheif: a real HEVC decode (so a build without the HEVC decoder fails
//! here, loudly), orientation applied exactly once, bit depths, alpha, limits, refusals.

mod common;

use common::{decode_rgb, mean_abs_diff, megapixels, read, shrink_rgb};
use mindee_prep::{detect, prepare, Action, ErrorKind, Format, Orientation, PrepareOptions};

fn prepared(name: &str) -> mindee_prep::Prepared {
    prepare(&read(name), &PrepareOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixtures' scene has a red block with a white "TL" in its top-left corner.
fn assert_red_top_left(name: &str, (w, h, rgb): &(u32, u32, Vec<u8>)) {
    let (bw, bh) = (w / 16, h / 16);
    let mut sum = [0u64; 3];
    for y in 0..bh {
        for x in 0..bw {
            let i = ((y * w + x) * 3) as usize;
            for c in 0..3 {
                sum[c] += u64::from(rgb[i + c]);
            }
        }
    }
    let n = u64::from(bw * bh);
    let [r, g, b] = sum.map(|s| s / n);
    assert!(
        r > 150 && g < 110 && b < 110,
        "{name}: top-left is not red: {r},{g},{b}"
    );
}

#[test]
fn hevc_photo_is_decoded_and_downscaled_to_jpeg() {
    for name in ["heif/photo_12mp.heic", "heif/grid_12mp.heic"] {
        let p = prepared(name);
        let r = p.report();
        assert_eq!(
            (r.action, r.format, r.output_format),
            (Action::Downscaled, Format::Heic, Format::Jpeg),
            "{name}"
        );
        assert_eq!((r.out_width, r.out_height), (2309, 1732), "{name}");
        let decoded = decode_rgb(p.bytes());
        assert_eq!((decoded.0, decoded.1), (2309, 1732));
        assert_red_top_left(name, &decoded);
    }
}

#[test]
fn irot_is_applied_once_and_the_exif_copy_is_ignored() {
    let bytes = read("heif/rotated_irot90_exif6.heic");
    let found = detect(&bytes).unwrap();
    assert_eq!(found.orientation, Orientation::Rotate90);
    assert_eq!(
        found.orientation.displayed_size(found.width, found.height),
        (2000, 3000)
    );

    let p = prepared("heif/rotated_irot90_exif6.heic");
    let r = p.report();
    assert_eq!((r.width, r.height), (2000, 3000), "reported upright");
    assert!(
        r.out_height > r.out_width,
        "portrait: {}×{}",
        r.out_width,
        r.out_height
    );
    assert!((3.0..=5.0).contains(&megapixels(r.out_width, r.out_height)));
    let out = decode_rgb(p.bytes());
    let reference = decode_rgb(&read("heif/rotated_irot90_exif6.reference.png"));
    let diff = mean_abs_diff(&shrink_rgb(&out, reference.0, reference.1), &reference.2);
    assert!(
        diff < 8.0,
        "mean difference {diff} to the upright reference"
    );
    assert_red_top_left("rotated", &out);
}

#[test]
fn ten_bit_mono_and_alpha_become_8_bit_jpeg() {
    for name in ["heif/ten_bit.heif", "heif/alpha.heic", "heif/mono.heic"] {
        let p = prepared(name);
        assert_eq!(p.report().output_format, Format::Jpeg, "{name}");
        let header = turbojpeg::read_header(p.bytes()).unwrap();
        assert_eq!((header.width, header.height), (2450, 1633), "{name}");
        if name != "heif/mono.heic" {
            assert_red_top_left(name, &decode_rgb(p.bytes()));
        }
    }
    let gray = turbojpeg::read_header(prepared("heif/mono.heic").bytes()).unwrap();
    assert_eq!(
        gray.colorspace,
        turbojpeg::Colorspace::Gray,
        "monochrome stays gray"
    );
}

#[test]
fn small_hevc_still_passes_through() {
    let bytes = read("heif/small.heic");
    let p = prepare(&bytes, &PrepareOptions::default()).unwrap();
    assert_eq!(p.report().action, Action::Passthrough);
    assert_eq!(p.bytes(), &bytes[..]);
}

#[test]
fn refusals() {
    let opts = PrepareOptions::default();
    let kind = |name: &str| prepare(&read(name), &opts).map(|_| ()).unwrap_err().kind();
    assert_eq!(kind("heif/truncated.heic"), ErrorKind::Corrupt);
    assert_eq!(kind("heif/image.avif"), ErrorKind::UnsupportedFormat);
    assert_eq!(
        kind("heif/sequence_brand_only.heif"),
        ErrorKind::AnimatedImage
    );
}

#[test]
fn a_header_claiming_4_billion_pixels_is_refused_before_decoding() {
    let mut bytes = read("heif/small.heic");
    let at = bytes
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("ispe box");
    // ispe: 4 bytes version/flags, then width and height.
    bytes[at + 8..at + 12].copy_from_slice(&65_535u32.to_be_bytes());
    bytes[at + 12..at + 16].copy_from_slice(&65_535u32.to_be_bytes());
    let err = prepare(&bytes, &PrepareOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");

    // Under our limit but over the budget, a lying header must still fail cleanly.
    let opts = PrepareOptions {
        max_input_megapixels: 5000.0,
        ..PrepareOptions::default()
    };
    let err = prepare(&bytes, &opts).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::TooLarge),
        "{err}"
    );
}
