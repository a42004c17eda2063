//! Detection of every fixture, from the bytes alone.

mod common;

use common::read;
use mindee_prep::detect::Details;
use mindee_prep::{detect, ErrorKind, Format, Orientation};

fn detected(name: &str) -> mindee_prep::Detected {
    detect(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refused(name: &str) -> mindee_prep::Error {
    let found = detect(&read(name));
    match found {
        Ok(d) => d
            .refusal()
            .unwrap_or_else(|| panic!("{name} should be refused, got {d:?}")),
        Err(e) => e,
    }
}

#[test]
fn jpeg_facts() {
    let d = detected("jpeg/large_24mp.jpg");
    assert_eq!(
        (d.format, d.width, d.height, d.pages),
        (Format::Jpeg, 6000, 4000, 1)
    );
    let Details::Jpeg(info) = &d.details else {
        panic!("{d:?}")
    };
    assert_eq!((info.components, info.progressive), (3, false));

    let Details::Jpeg(info) = detected("jpeg/progressive_8mp.jpg").details else {
        panic!()
    };
    assert!(info.progressive);
    let Details::Jpeg(info) = detected("jpeg/gray_8mp.jpg").details else {
        panic!()
    };
    assert_eq!(info.components, 1);
    let Details::Jpeg(info) = detected("jpeg/cmyk_adobe_6mp.jpg").details else {
        panic!()
    };
    assert_eq!(info.components, 4);
    assert!(info.adobe_transform.is_some());
}

#[test]
fn every_exif_orientation_is_read() {
    for n in 1..=8u16 {
        let d = detected(&format!("jpeg/orient_{n}.jpg"));
        assert_eq!(d.orientation, Orientation::from_exif(n), "orient_{n}");
        assert_eq!(
            d.orientation.displayed_size(d.width, d.height),
            (3000, 2000),
            "orient_{n}"
        );
    }
}

#[test]
fn png_facts() {
    let facts = |name| match detected(name).details {
        Details::Png(p) => (p.bit_depth, p.color_type),
        other => panic!("{other:?}"),
    };
    assert_eq!(facts("png/rgb8_6mp.png"), (8, 2));
    assert_eq!(facts("png/rgba8_6mp.png"), (8, 6));
    assert_eq!(facts("png/rgb16_6mp.png"), (16, 2));
    assert_eq!(facts("png/gray8_6mp.png"), (8, 0));
    assert_eq!(facts("png/gray16_6mp.png"), (16, 0));
    assert_eq!(facts("png/palette_6mp.png").1, 3);
    let d = detected("png/rgb8_6mp.png");
    assert_eq!((d.width, d.height), (3000, 2000));
}

#[test]
fn webp_facts() {
    let facts = |name| {
        let d = detected(name);
        match d.details {
            Details::Webp(w) => (d.width, d.height, w.lossless, w.alpha, d.animated),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        facts("webp/lossy_6mp.webp"),
        (3000, 2000, false, false, false)
    );
    assert_eq!(
        facts("webp/lossless_6mp.webp"),
        (3000, 2000, true, false, false)
    );
    assert_eq!(
        facts("webp/alpha_lossy_6mp.webp"),
        (3000, 2000, false, true, false)
    );
}

#[test]
fn animations_are_refused_with_their_frame_count() {
    for name in [
        "webp/animated.webp",
        "webp/animated_flagless.webp",
        "png/apng_animated.png",
    ] {
        let e = refused(name);
        assert_eq!(e.kind(), ErrorKind::AnimatedImage, "{name}: {e}");
        assert!(e.to_string().contains("3 frames"), "{name}: {e}");
    }
}

#[test]
fn heif_family_by_brand() {
    let d = detected("heif/photo_12mp.heic");
    assert_eq!((d.format, d.width, d.height), (Format::Heic, 4032, 3024));
    assert_eq!(detected("heif/small.heic").format, Format::Heic);
    let e = refused("heif/image.avif");
    assert_eq!(e.kind(), ErrorKind::UnsupportedFormat);
    assert!(e.to_string().starts_with("AVIF"), "{e}");
}

#[test]
fn tiff_pages_from_the_ifd_chain() {
    let d = detected("tiff/multipage_mixed.tif");
    assert_eq!((d.format, d.pages), (Format::Tiff, 3));
    let Details::Tiff(t) = &d.details else {
        panic!()
    };
    assert_eq!(t.pages[0].compression, 4, "page 1 is CCITT G4");
    assert_eq!((t.pages[2].width, t.pages[2].height), (800, 600));
    assert!(matches!(detected("tiff/bigtiff.tif").details, Details::Tiff(ref t) if t.bigtiff));
    let e = detect(&read("tiff/ifd_loop.tif")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.to_string().contains("loop"), "{e}");
}

#[test]
fn pdf_header_and_encryption() {
    let d = detected("pdf/text_only.pdf");
    assert_eq!(d.format, Format::Pdf);
    let Details::Pdf(p) = &detected("pdf/junk_before_header.pdf").details else {
        panic!()
    };
    assert!(p.header_offset > 0);
    // Detection sees the encryption; the refusal comes from the PDF codec, because a file that
    // opens with the empty password is decrypted rather than refused.
    let d = detected("pdf/encrypted_password.pdf");
    assert!(matches!(d.details, Details::Pdf(ref p) if p.encrypted));
    let e =
        mindee_prep::prepare(&read("pdf/encrypted_password.pdf"), &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EncryptedPdf);
}

#[test]
fn other_formats_are_named() {
    for (name, expected) in [
        ("other/image.gif", "GIF"),
        ("other/image.bmp", "BMP"),
        ("other/image.jp2", "JPEG 2000"),
        ("other/image.j2k", "JPEG 2000 codestream"),
        ("other/image.psd", "PSD"),
        ("other/image.ico", "ICO"),
        ("other/image.svg", "SVG"),
        ("other/text.txt", "plain text"),
    ] {
        let e = refused(name);
        assert_eq!(e.kind(), ErrorKind::UnsupportedFormat, "{name}");
        assert!(e.to_string().starts_with(expected), "{name}: {e}");
    }
    assert_eq!(refused("other/empty.bin").kind(), ErrorKind::EmptyFile);
}

#[test]
fn damaged_headers_are_corrupt_not_panics() {
    for name in [
        "bad/corrupt.jpg",
        "bad/truncated.jpg",
        "bad/truncated_small.jpg", // within budget, but no end-of-image marker
        "bad/truncated.png",
        "bad/corrupt_header.webp",
        "bad/truncated.webp",
        "bad/bad_riff_size.webp",
        "tiff/truncated.tif",
        "tiff/ifd_loop.tif",
    ] {
        let e = detect(&read(name)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{name}: {e}");
    }
}

#[test]
fn every_prefix_of_every_fixture_is_handled() {
    // Truncation at any point must give a result or an error, never a panic or a hang.
    for name in [
        "jpeg/orient_6.jpg",
        "png/apng_animated.png",
        "webp/animated.webp",
        "webp/alpha_lossy_6mp.webp",
        "heif/small.heic",
        "tiff/multipage_mixed.tif",
        "pdf/text_only.pdf",
    ] {
        let bytes = read(name);
        let step = (bytes.len() / 2000).max(1);
        for cut in (0..bytes.len().min(64 * 1024)).step_by(step) {
            let _ = detect(&bytes[..cut]);
        }
    }
}
