//! PDF end to end: oversized images shrunk in place, text untouched, encryption removed or
//! refused, page selection, bad files.

mod common;

use common::{megapixels, read};
use lopdf::{dictionary, Document, Object, ObjectId, Stream};
use mindee_prep::{
    prepare, Action, ErrorKind, Format, PageOperation, PageSelection, PrepareOptions, Prepared,
};

fn prepared(bytes: &[u8], options: &PrepareOptions) -> Prepared {
    prepare(bytes, options).unwrap_or_else(|e| panic!("{e}"))
}

fn load(bytes: &[u8]) -> Document {
    Document::load_mem(bytes).expect("output re-opens with lopdf")
}

/// The image XObjects named directly in a page's resources, with their ids.
fn page_images(doc: &Document, page: ObjectId) -> Vec<(ObjectId, u32, u32)> {
    doc.get_page_images(page)
        .expect("page images")
        .into_iter()
        .map(|i| (i.id, i.width as u32, i.height as u32))
        .collect()
}

fn assert_in_budget(what: &str, input: (u32, u32), output: (u32, u32)) {
    let mp = megapixels(output.0, output.1);
    assert!((3.0..=5.0).contains(&mp), "{what}: {output:?} is {mp} MP");
    let exact = f64::from(output.1) * f64::from(input.0) / f64::from(input.1);
    assert!(
        (f64::from(output.0) - exact).abs() <= 1.0,
        "{what}: {input:?} -> {output:?} changes the aspect ratio"
    );
}

#[test]
fn oversized_images_shrink_and_everything_else_stays() {
    let original = read("pdf/mixed.pdf");
    let p = prepared(&original, &PrepareOptions::default());
    let r = p.report();
    assert_eq!(
        (r.action, r.format, r.output_format),
        (Action::Downscaled, Format::Pdf, Format::Pdf)
    );
    assert_eq!(r.pages, 5);
    assert!(
        p.bytes().len() < original.len(),
        "{} bytes",
        p.bytes().len()
    );

    let before = load(&original);
    let after = load(p.bytes());
    let (pages_before, pages_after) = (before.get_pages(), after.get_pages());
    assert_eq!(pages_after.len(), 5, "same pages");
    for (n, id) in &pages_after {
        // Content streams (text, the `cm` that places each image) are byte-identical.
        assert_eq!(
            after.get_page_content(*id),
            before.get_page_content(pages_before[n]),
            "page {n} content changed"
        );
    }
    assert_eq!(
        after.extract_text(&[1]).expect("text"),
        before.extract_text(&[1]).expect("text"),
        "text of page 1"
    );
    assert!(page_images(&after, pages_after[&1]).is_empty());
    for n in [2, 3, 4, 5] {
        let old = page_images(&before, pages_before[&n]);
        let new = page_images(&after, pages_after[&n]);
        assert_eq!((old.len(), new.len()), (1, 1), "page {n}");
        assert_in_budget(
            &format!("page {n}"),
            (old[0].1, old[0].2),
            (new[0].1, new[0].2),
        );
        let stream = after
            .get_object(new[0].0)
            .and_then(Object::as_stream)
            .expect("stream");
        assert_eq!(stream.filters().expect("filter"), vec![&b"DCTDecode"[..]]);
        assert_eq!(
            stream
                .dict
                .get(b"BitsPerComponent")
                .and_then(Object::as_i64)
                .ok(),
            Some(8)
        );
        let header = turbojpeg::read_header(&stream.content).expect("a real JPEG");
        assert_eq!(
            (header.width as u32, header.height as u32),
            (new[0].1, new[0].2)
        );
    }
    // Pages 4 and 5 still share one image object.
    assert_eq!(
        page_images(&after, pages_after[&4])[0].0,
        page_images(&after, pages_after[&5])[0].0
    );

    let images = r.page_images.as_ref().expect("page images in the report");
    let p2 = images.iter().find(|i| i.page == 2).expect("page 2");
    assert_eq!((p2.width, p2.height), (6000, 4000));
    assert_in_budget("report p2", (6000, 4000), (p2.out_width, p2.out_height));
    assert_eq!(
        images.iter().map(|i| i.page).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    let json = serde_json::to_value(r).expect("serialises");
    assert_eq!(json["page_images"][0]["page"], 2);
}

#[test]
fn nothing_oversized_passes_through_byte_identical() {
    let original = read("pdf/text_only.pdf");
    let p = prepared(&original, &PrepareOptions::default());
    assert_eq!(p.report().action, Action::Passthrough);
    assert_eq!(p.bytes(), &original[..]);
}

#[test]
fn junk_before_the_header_is_stripped() {
    let original = read("pdf/junk_before_header.pdf");
    let p = prepared(&original, &PrepareOptions::default());
    assert_eq!(p.report().action, Action::Repaired);
    assert!(p.bytes().starts_with(b"%PDF-"));
    assert_eq!(p.bytes(), &original[103..]);
    assert_eq!(load(p.bytes()).get_pages().len(), 1);
}

#[test]
fn encryption_is_removed_or_refused() {
    let text = load(&read("pdf/text_only.pdf"))
        .extract_text(&[1])
        .expect("text");
    let assert_decrypted = |p: &Prepared| {
        assert_eq!(p.report().action, Action::Repaired);
        let doc = load(p.bytes());
        assert!(
            !doc.is_encrypted() && !doc.was_encrypted(),
            "output is not encrypted"
        );
        assert!(!p.bytes().windows(8).any(|w| w == b"/Encrypt"));
        assert_eq!(doc.extract_text(&[1]).expect("text"), text);
    };

    // An empty user password is still encryption to the API: opened and saved without it.
    assert_decrypted(&prepared(
        &read("pdf/encrypted_empty_user.pdf"),
        &PrepareOptions::default(),
    ));

    let locked = read("pdf/encrypted_password.pdf");
    let err = prepare(&locked, &PrepareOptions::default()).expect_err("needs a password");
    assert_eq!(err.kind(), ErrorKind::EncryptedPdf, "{err}");
    let wrong = PrepareOptions {
        pdf_password: Some("guess".into()),
        ..PrepareOptions::default()
    };
    let err = prepare(&locked, &wrong).expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::EncryptedPdf, "{err}");
    let right = PrepareOptions {
        pdf_password: Some("secret".into()),
        ..PrepareOptions::default()
    };
    assert_decrypted(&prepared(&locked, &right));
}

#[test]
fn bad_files_are_corrupt() {
    let err = prepare(&read("pdf/truncated.pdf"), &PrepareOptions::default())
        .expect_err("truncated.pdf was accepted");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let err = prepare(
        b"%PDF-1.4\nnot a pdf at all\n%%EOF\n",
        &PrepareOptions::default(),
    )
    .expect_err("garbage was accepted");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn page_selection_keeps_or_removes_pages() {
    let original = read("pdf/mixed.pdf");
    let with = |indexes: Vec<i64>, operation, min_pages| PrepareOptions {
        pdf_pages: Some(PageSelection {
            indexes,
            operation,
            min_pages,
        }),
        ..PrepareOptions::default()
    };
    let count = |p: &Prepared| load(p.bytes()).get_pages().len();

    let p = prepared(&original, &with(vec![0, -1], PageOperation::KeepOnly, 0));
    assert_eq!((count(&p), p.report().out_pages), (2, Some(2)));
    let doc = load(p.bytes());
    let pages = doc.get_pages();
    assert!(
        page_images(&doc, pages[&1]).is_empty(),
        "first page is the text page"
    );
    assert_eq!(page_images(&doc, pages[&2]).len(), 1, "last page is page 5");

    let p = prepared(&original, &with(vec![0], PageOperation::Remove, 0));
    assert_eq!(count(&p), 4);
    // Not applied to documents shorter than min_pages.
    let p = prepared(&original, &with(vec![0], PageOperation::Remove, 6));
    assert_eq!((count(&p), p.report().out_pages), (5, None));
    // A selection that leaves nothing is an error.
    let err = prepare(
        &original,
        &with(vec![0, 1, 2, 3, 4], PageOperation::Remove, 0),
    )
    .expect_err("no pages left");
    assert_eq!(err.kind(), ErrorKind::Config);
}

/// A one-page PDF drawing, through a Form XObject, a 3000×2000 Flate gray image with a
/// soft mask (6 MP, over budget).
fn form_with_masked_image() -> Vec<u8> {
    let (w, h) = (3000usize, 2000usize);
    let gray: Vec<u8> = (0..w * h).map(|i| ((i % w) * 255 / w) as u8).collect();
    let alpha: Vec<u8> = (0..w * h)
        .map(|i| if (i / w) < h / 2 { 255 } else { 128 })
        .collect();
    let mut doc = Document::with_version("1.5");
    let flate = |dict: lopdf::Dictionary, data: Vec<u8>| {
        let mut s = Stream::new(dict, data);
        s.compress().expect("compresses");
        s
    };
    let smask = doc.add_object(flate(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        alpha,
    ));
    let image = doc.add_object(flate(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "SMask" => smask,
            "Decode" => vec![1.into(), 0.into()] },
        gray,
    ));
    let form = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 1.into(), 1.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image } } },
        b"q 1 0 0 1 0 0 cm /Im1 Do Q".to_vec(),
    ));
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"q 600 0 0 400 6 196 cm /Fm1 Do Q".to_vec(),
    ));
    let pages_id = doc.new_object_id();
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Contents" => content,
        "Resources" => dictionary! { "XObject" => dictionary! { "Fm1" => form } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saves");
    out
}

#[test]
fn images_inside_form_xobjects_shrink_and_keep_their_mask_and_decode() {
    let original = form_with_masked_image();
    let p = prepared(&original, &PrepareOptions::default());
    assert_eq!(p.report().action, Action::Downscaled);
    let images = p.report().page_images.clone().expect("page images");
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (3000, 2000));
    assert_in_budget(
        "form image",
        (3000, 2000),
        (images[0].out_width, images[0].out_height),
    );

    let doc = load(p.bytes());
    let image = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .find(|s| s.dict.get(b"SMask").is_ok())
        .expect("the image keeps its SMask");
    assert_eq!(image.filters().expect("filter"), vec![&b"DCTDecode"[..]]);
    assert_eq!(
        image
            .dict
            .get(b"Decode")
            .and_then(Object::as_array)
            .map(Vec::len)
            .ok(),
        Some(2),
        "Decode array kept for a gray image"
    );
    assert_eq!(
        image.dict.get(b"ColorSpace").and_then(Object::as_name).ok(),
        Some(&b"DeviceGray"[..])
    );
    let mask_id = image
        .dict
        .get(b"SMask")
        .and_then(Object::as_reference)
        .expect("mask ref");
    assert!(
        doc.get_object(mask_id).and_then(Object::as_stream).is_ok(),
        "mask still there"
    );
    let header = turbojpeg::read_header(&image.content).expect("JPEG");
    assert_eq!(header.colorspace, turbojpeg::Colorspace::Gray);
}
