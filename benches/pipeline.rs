//! The whole path and its stages: 24 MP JPEG → ~4 MP JPEG, as `prepare` runs it, plus the
//! scanline decode (at the scale `prepare` picks, and ½) and encode it streams through, and a
//! pass-through. Throughput in source pixels per second;
//! for the multi-page cases (3-page scanned TIFF, 10-page scanned PDF) in pages per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mindee_prep::{bench_api, prepare, PrepareOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn bench(c: &mut Criterion) {
    let options = PrepareOptions::default();
    let large = fixture("jpeg/large_24mp.jpg");
    let mut group = c.benchmark_group("jpeg_24mp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(24_000_000));
    group.bench_function("prepare_to_4mp", |b| {
        b.iter(|| prepare(&large, &options).expect("prepares"))
    });
    // The scanline decoder `prepare` streams from, at the scale it picks for this photo
    // (full: ½ would leave the Lanczos3 step less than 2×) and at ½ for comparison.
    let found = mindee_prep::detect(&large).expect("detects");
    let Ok(mindee_prep::Plan::Downscale { width, height, .. }) =
        mindee_prep::plan(&found, large.len() as u64, &options)
    else {
        panic!("over budget");
    };
    let shipping = bench_api::jpeg_decode_denominator((found.width, found.height), (width, height));
    group.bench_function(format!("decode_rows_1_{shipping}_shipping"), |b| {
        b.iter(|| bench_api::jpeg_decode_rows(&large, shipping))
    });
    group.bench_function("decode_rows_1_2", |b| {
        b.iter(|| bench_api::jpeg_decode_rows(&large, 2))
    });
    let small = bench_api::jpeg_decode_rows(&fixture("jpeg/orient_1.jpg"), 1);
    group.throughput(Throughput::Elements(
        u64::from(small.width()) * u64::from(small.height()),
    ));
    group.bench_function("encode_rows_6mp", |b| {
        b.iter(|| bench_api::jpeg_encode_rows(&small, options.jpeg_quality))
    });
    group.finish();

    // A 3-page scan: an A4 400 dpi G4 page (15 MP) and a 6 MP colour page, both scaled, plus
    // a small page kept as it is.
    let scan = fixture("tiff/multipage_mixed.tif");
    let mut group = c.benchmark_group("tiff_scan_3_pages");
    group.sample_size(10);
    group.throughput(Throughput::Elements(3));
    group.bench_function("prepare", |b| {
        b.iter(|| prepare(&scan, &options).expect("prepares"))
    });
    group.finish();

    // A 10-page scanned PDF: each page one 24 MP JPEG scan (its own object, so none is shared).
    let pdf = scanned_pdf(&fixture("jpeg/large_24mp.jpg"), 10);
    let mut group = c.benchmark_group("pdf_scan_10_pages");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10));
    group.bench_function("prepare", |b| {
        b.iter(|| prepare(&pdf, &options).expect("prepares"))
    });
    group.finish();

    let mut group = c.benchmark_group("passthrough");
    let within = fixture("jpeg/small_2mp.jpg");
    group.throughput(Throughput::Elements(1));
    group.bench_function("jpeg_2mp_detect_and_copy", |b| {
        b.iter(|| prepare(&within, &options).expect("prepares"))
    });
    group.finish();
}

/// A PDF of `pages` A4 pages, each showing its own copy of `jpeg` (6000×4000) full page.
fn scanned_pdf(jpeg: &[u8], pages: usize) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let kids: Vec<Object> = (0..pages)
        .map(|_| {
            let image = doc.add_object(Stream::new(
                dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 6000, "Height" => 4000,
                    "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
                jpeg.to_vec(),
            ));
            let content = doc.add_object(Stream::new(
                dictionary! {},
                b"q 842 0 0 561 0 0 cm /Im0 Do Q".to_vec(),
            ));
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 842.into(), 561.into()],
                "Contents" => content,
                "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
            })
            .into()
        })
        .collect();
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => pages as i64 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saves");
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
