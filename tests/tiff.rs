//! Multi-page TIFF end to end: every compression and colour variant, page counts, budgets,
//! exact pixels on kept pages, bad files.

mod common;

use std::io::Cursor;

use common::{mean_abs_diff, megapixels, read};
use mindee_prep::{prepare, Action, ErrorKind, Format, PrepareOptions, Prepared};
use tiff::decoder::{Decoder, DecodingResult};
use tiff::ColorType;

/// One decoded page of a TIFF: width, height, colour type, 8-bit samples.
struct Page {
    width: u32,
    height: u32,
    color: ColorType,
    data: Vec<u8>,
}

/// Every page of `bytes`, read back with the `tiff` crate; bilevel (G4) and 4-bit gray pages
/// are unpacked to 8-bit gray (black 0, white 255).
fn pages(bytes: &[u8]) -> Vec<Page> {
    let mut decoder = Decoder::new(Cursor::new(bytes)).expect("output is a TIFF");
    let mut out = Vec::new();
    loop {
        let (width, height) = decoder.dimensions().expect("dimensions");
        let mut color = decoder.colortype().expect("colour type");
        let data = match decoder.read_image().expect("page decodes") {
            DecodingResult::U8(data) => data,
            _ => panic!("expected 8-bit samples"),
        };
        let data = match color {
            ColorType::Gray(bits @ (1 | 4)) => {
                color = ColorType::Gray(8);
                unpack(&data, width as usize, bits)
            }
            _ => data,
        };
        out.push(Page {
            width,
            height,
            color,
            data,
        });
        if !decoder.more_images() {
            return out;
        }
        decoder.next_image().expect("next page");
    }
}

/// Rows of 1- or 4-bit samples (each row padded to a byte) to 8-bit gray. The `tiff` crate has
/// already turned WhiteIsZero pages into BlackIsZero samples.
fn unpack(data: &[u8], width: usize, bits: u8) -> Vec<u8> {
    let row_bytes = (width * usize::from(bits)).div_ceil(8);
    let max = (1u16 << bits) - 1;
    let mut out = Vec::new();
    for row in data.chunks_exact(row_bytes) {
        for x in 0..width {
            let bit = x * usize::from(bits);
            let v = u16::from(row[bit / 8] >> (8 - usize::from(bits) - bit % 8)) & max;
            let v = (v * 255 / max) as u8;
            out.push(v);
        }
    }
    out
}

fn prepared(name: &str, options: &PrepareOptions) -> Prepared {
    prepare(&read(name), options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Asserts the budget on one page: [3, 5] MP and the input's aspect ratio within a pixel.
fn assert_in_budget(name: &str, input: [u32; 2], output: [u32; 2]) {
    let mp = megapixels(output[0], output[1]);
    assert!((3.0..=5.0).contains(&mp), "{name}: {output:?} is {mp} MP");
    let exact = f64::from(output[1]) * f64::from(input[0]) / f64::from(input[1]);
    assert!(
        (f64::from(output[0]) - exact).abs() <= 1.0,
        "{name}: {input:?} -> {output:?} changes the aspect ratio"
    );
}

/// A downscaled single-page TIFF: checks the report and the re-opened output, returns the page.
fn downscaled_single(name: &str) -> Page {
    let p = prepared(name, &PrepareOptions::default());
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled, "{name}");
    assert_eq!((r.format, r.output_format), (Format::Tiff, Format::Tiff));
    assert_eq!(r.pages, 1, "{name}");
    assert_in_budget(name, [r.width, r.height], [r.out_width, r.out_height]);
    let mut out = pages(p.bytes());
    assert_eq!(out.len(), 1, "{name}: one page out");
    let page = out.remove(0);
    assert_eq!((page.width, page.height), (r.out_width, r.out_height));
    page
}

fn rgb(page: &Page) -> Vec<u8> {
    match page.color {
        ColorType::RGB(8) => page.data.clone(),
        ColorType::Gray(8) => page.data.iter().flat_map(|&v| [v, v, v]).collect(),
        other => panic!("unexpected colour type {other:?}"),
    }
}

#[test]
fn mixed_three_pages_scale_the_big_ones_and_keep_the_small_one() {
    let original = read("tiff/multipage_mixed.tif");
    let p = prepare(&original, &PrepareOptions::default()).expect("prepares");
    let r = p.report();
    assert_eq!(r.action, Action::Downscaled);
    assert_eq!(r.pages, 3);
    let sizes = r.page_sizes.clone().expect("page sizes");
    let out_sizes = r.out_page_sizes.clone().expect("out page sizes");
    assert_eq!(sizes, vec![[3307, 4677], [3000, 2000], [800, 600]]);
    assert_in_budget("page 1", sizes[0], out_sizes[0]);
    assert_in_budget("page 2", sizes[1], out_sizes[1]);
    assert_eq!(out_sizes[2], [800, 600], "page 3 is within budget");

    let out = pages(p.bytes());
    assert_eq!(out.len(), 3, "same page count");
    for (page, size) in out.iter().zip(&out_sizes) {
        assert_eq!([page.width, page.height], *size);
    }
    // The G4 page comes out bilevel or in gray (unpacked above): white paper, black text.
    assert_eq!(out[0].color, ColorType::Gray(8));
    let mean = out[0].data.iter().map(|&v| f64::from(v)).sum::<f64>() / out[0].data.len() as f64;
    assert!(mean > 200.0, "mostly white: {mean}");
    assert!(out[0].data.iter().any(|&v| v < 64), "has black text");

    // Page 3 keeps its exact pixels.
    let mut decoder = Decoder::new(Cursor::new(&original[..])).expect("input opens");
    decoder.seek_to_image(2).expect("page 3");
    let DecodingResult::U8(expected) = decoder.read_image().expect("page 3 decodes") else {
        panic!("8-bit page 3")
    };
    assert_eq!(out[2].color, ColorType::RGB(8));
    assert!(out[2].data == expected, "page 3 pixels changed");
}

#[test]
fn every_variant_downscales_and_reopens() {
    let reference = rgb(&downscaled_single("tiff/lzw_rgb.tif"));
    for name in [
        "tiff/deflate_rgb.tif",
        "tiff/jpeg_ycbcr.tif",
        "tiff/palette.tif",
        "tiff/rgb16.tif",
        "tiff/cmyk.tif",
        "tiff/tiled.tif",
        "tiff/bigtiff.tif",
        "tiff/reduced_res_subfile.tif",
    ] {
        let page = downscaled_single(name);
        let diff = mean_abs_diff(&rgb(&page), &reference);
        eprintln!("{name}: mean abs diff to lzw_rgb {diff:.2}");
    }
}

#[test]
fn colour_conversions_match_the_plain_rgb_page() {
    // These fixtures draw the same document scene as lzw_rgb.tif: a wrong YCbCr, CMYK or
    // palette conversion shows up as a large difference.
    let reference = rgb(&downscaled_single("tiff/lzw_rgb.tif"));
    for (name, max) in [
        ("tiff/bigtiff.tif", 0.01),
        ("tiff/tiled.tif", 0.01),
        ("tiff/jpeg_ycbcr.tif", 4.0),
        ("tiff/cmyk.tif", 4.0),
    ] {
        let diff = mean_abs_diff(&rgb(&downscaled_single(name)), &reference);
        assert!(diff <= max, "{name}: mean abs diff {diff}");
    }
}

#[test]
fn g4_min_is_black_and_fill_order_2_give_the_same_page() {
    let a = downscaled_single("tiff/g4_minisblack.tif");
    let b = downscaled_single("tiff/g4_fillorder2.tif");
    // A bilevel page goes to just under the 5 MP maximum (4.9 MP), not the 4 MP target.
    assert_eq!((a.width, a.height), (1861, 2632));
    assert!(a.data == b.data, "same picture");
    let mean = a.data.iter().map(|&v| f64::from(v)).sum::<f64>() / a.data.len() as f64;
    assert!(
        mean > 200.0,
        "black text on white, not inverted: mean {mean}"
    );
}

#[test]
fn g3_fax_within_budget_passes_through_and_decodes_when_over() {
    let original = read("tiff/g3_fax.tif");
    let p = prepare(&original, &PrepareOptions::default()).expect("prepares");
    assert_eq!(p.report().action, Action::Passthrough);
    assert_eq!(p.bytes(), &original[..]);

    // With a 2 MP budget the 3.8 MP fax page must be decoded (G3 1-D) and scaled.
    let small = PrepareOptions {
        max_megapixels: 2.0,
        target_megapixels: 1.5,
        ..PrepareOptions::default()
    };
    let p = prepared("tiff/g3_fax.tif", &small);
    assert_eq!(p.report().action, Action::Downscaled);
    let out = pages(p.bytes());
    assert_eq!(out.len(), 1);
    let page = &out[0];
    let mp = megapixels(page.width, page.height);
    assert!((1.0..=2.0).contains(&mp), "{mp} MP");
    let mean = page.data.iter().map(|&v| f64::from(v)).sum::<f64>() / page.data.len() as f64;
    assert!(
        mean > 200.0 && mean < 254.5,
        "a white page with text: {mean}"
    );
}

#[test]
fn bad_files_give_the_right_kind() {
    for (name, kind) in [
        ("tiff/ifd_loop.tif", ErrorKind::Corrupt),
        ("tiff/truncated.tif", ErrorKind::Corrupt),
    ] {
        let err = prepare(&read(name), &PrepareOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert_eq!(err.kind(), kind, "{name}: {err}");
    }
}

#[test]
fn a_first_strip_starting_past_the_end_of_the_file_is_corrupt() {
    // A small (within budget) one-strip gray page, then its StripOffsets moved past the end,
    // as in Pillow's crash-*.tif files that every reader fails on.
    let mut bytes = Vec::new();
    let mut encoder = tiff::encoder::TiffEncoder::new(Cursor::new(&mut bytes)).unwrap();
    encoder
        .write_image::<tiff::encoder::colortype::Gray8>(64, 32, &[200u8; 64 * 32])
        .unwrap();
    let good = prepare(&bytes, &PrepareOptions::default()).unwrap();
    assert_eq!(good.report().action, Action::Passthrough);
    let ifd = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let count = u16::from_le_bytes([bytes[ifd], bytes[ifd + 1]]) as usize;
    let entry = (0..count)
        .map(|i| ifd + 2 + i * 12)
        .find(|&e| u16::from_le_bytes([bytes[e], bytes[e + 1]]) == 273)
        .expect("StripOffsets");
    assert_eq!(
        u16::from_le_bytes([bytes[entry + 2], bytes[entry + 3]]),
        4,
        "LONG"
    );
    bytes[entry + 8..entry + 12].copy_from_slice(&1_000_000u32.to_le_bytes());
    let err = prepare(&bytes, &PrepareOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("first strip"), "{err}");
}

/// Sets the Compression value of the first IFD of a little-endian classic TIFF.
fn with_compression(mut bytes: Vec<u8>, code: u16) -> Vec<u8> {
    let ifd = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let count = u16::from_le_bytes([bytes[ifd], bytes[ifd + 1]]) as usize;
    for i in 0..count {
        let e = ifd + 2 + i * 12;
        if u16::from_le_bytes([bytes[e], bytes[e + 1]]) == 259 {
            bytes[e + 8..e + 10].copy_from_slice(&code.to_le_bytes());
            return bytes;
        }
    }
    panic!("no Compression tag");
}

#[test]
fn an_undecodable_compression_passes_through_within_budget_and_is_named_over_it() {
    // CCITT modified Huffman (2) is not decoded by this build.
    let within = with_compression(read("tiff/g3_fax.tif"), 2);
    let p = prepare(&within, &PrepareOptions::default()).expect("passes through");
    assert_eq!(p.report().action, Action::Passthrough);

    let over = with_compression(read("tiff/g4_minisblack.tif"), 2);
    let err = prepare(&over, &PrepareOptions::default()).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Undecodable);
    let message = err.to_string();
    assert!(
        message.contains("modified Huffman") && message.contains("page 1"),
        "{message}"
    );
}

#[test]
fn garbage_strip_data_is_corrupt_not_a_panic() {
    // The G4 page's strip data overwritten with noise: the decoder must fail cleanly.
    let mut bytes = read("tiff/g4_minisblack.tif");
    let mut state = 0x1234_5678u32;
    for b in bytes.iter_mut().skip(16).take(50_000) {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (state >> 24) as u8;
    }
    match prepare(&bytes, &PrepareOptions::default()) {
        Ok(p) => assert_eq!(pages(p.bytes()).len(), 1),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}"),
    }
}
