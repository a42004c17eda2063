//! Per-stage throughput of the code that ships, per format, in megapixels per second
//! (criterion's "elem/s" here counts pixels: Melem/s = MP/s). Inputs are the bundled fixtures.
//!
//! Settings come from `src/`, not copies: the target size from [`plan`] with
//! `PrepareOptions::default()`, the quality from the same options, the DCT scale from the rule
//! `prepare` uses (`MIN_FILTER_SHRINK`), the codecs through `mindee_prep::bench_api` (the
//! crate's own calls: libjpeg's scanline decoder and encoder, `image`, libheif).
//!
//! - downscale: the whole streamed JPEG path, 24 MP → 4 MP (decode + resize + encode).
//! - decode: JPEG 24 MP through the scanline decoder at the scale `prepare` picks for a 4 MP
//!   target (full scale: ½ would leave the filter less than 2×), and at ½ for comparison;
//!   PNG 6 MP, WebP 6 MP lossy and lossless, HEIC 12 MP grid (48 tiles). Source pixels.
//! - resize: Lanczos3 to the budget from the 24 MP full decode, banded over rows (what the
//!   JPEG, PNG, WebP and HEIC → JPEG paths run) and whole-image (PNG → PNG, TIFF pages);
//!   every variant reads the same borrowed source (the whole-image copy is made outside the
//!   timing). Source pixels.
//! - encode: a ~4 MP result (the 24 MP photo at its budget size) through the scanline encoder
//!   (downscale paths), TurboJPEG's whole-image encoder (turned or converted images) and the
//!   PNG encoder. Encoded pixels.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mindee_prep::bench_api;
use mindee_prep::resize::{resize, resize_rows};
use mindee_prep::{detect, plan, Pixels, Plan, PrepareOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn mp(pixels: &Pixels) -> u64 {
    u64::from(pixels.width()) * u64::from(pixels.height())
}

/// What `prepare` would scale `data` to with `options`: (source size, target size).
fn planned(data: &[u8], options: &PrepareOptions) -> ((u32, u32), (u32, u32)) {
    let found = detect(data).expect("detects");
    match plan(&found, data.len() as u64, options).expect("plans") {
        Plan::Downscale { width, height, .. } => ((found.width, found.height), (width, height)),
        other => panic!("the fixture is over budget, not {other:?}"),
    }
}

fn threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as u32
}

fn downscale(c: &mut Criterion) {
    let options = PrepareOptions::default();
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let (size, target) = planned(&jpeg, &options);
    let mut group = c.benchmark_group("downscale");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(size.0) * u64::from(size.1)));
    group.bench_function("jpeg_24mp_streamed", |b| {
        b.iter(|| bench_api::jpeg_downscale(&jpeg, target, options.jpeg_quality))
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let options = PrepareOptions::default();
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let (size, target) = planned(&jpeg, &options);
    let shipping = bench_api::jpeg_decode_denominator(size, target);

    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(size.0) * u64::from(size.1)));
    group.bench_function(format!("jpeg_24mp_rows_1_{shipping}_shipping"), |b| {
        b.iter(|| bench_api::jpeg_decode_rows(&jpeg, shipping))
    });
    group.bench_function("jpeg_24mp_rows_1_2", |b| {
        b.iter(|| bench_api::jpeg_decode_rows(&jpeg, 2))
    });
    for (name, file) in [
        ("png_6mp_rgb8", "png/rgb8_6mp.png"),
        ("webp_6mp_lossy", "webp/lossy_6mp.webp"),
        ("webp_6mp_lossless", "webp/lossless_6mp.webp"),
        ("heic_12mp_grid", "heif/grid_12mp.heic"),
    ] {
        let data = fixture(file);
        let decoded = bench_api::decode_whole(&data, threads());
        group.throughput(Throughput::Elements(mp(&decoded)));
        group.bench_function(name, |b| {
            b.iter(|| bench_api::decode_whole(&data, threads()))
        });
    }
    group.finish();
}

fn resize_stage(c: &mut Criterion) {
    let options = PrepareOptions::default();
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let (size, (w, h)) = planned(&jpeg, &options);
    let src = bench_api::jpeg_decode_rows(&jpeg, bench_api::jpeg_decode_denominator(size, (w, h)));
    let mut group = c.benchmark_group("resize_lanczos3_24mp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(mp(&src)));
    group.bench_function("banded", |b| b.iter(|| banded(&src, w, h)));
    group.bench_function("whole", |b| {
        b.iter_batched(|| src.clone(), |s| resize(s, w, h), BatchSize::LargeInput)
    });
    group.finish();
}

/// [`resize_rows`] over rows already in memory; returns the bytes written.
fn banded(src: &Pixels, w: u32, h: u32) -> usize {
    let stride = src.width() as usize * usize::from(src.channels());
    let mut rows = src.data().chunks(stride);
    let mut written = 0;
    resize_rows::<()>(
        (src.width(), src.height()),
        (w, h),
        src.channels(),
        |buf, n| {
            for row in buf.chunks_mut(stride).take(n as usize) {
                row.copy_from_slice(rows.next().expect("as many rows as the height"));
            }
            Ok(())
        },
        |buf, _| {
            written += buf.len();
            Ok(())
        },
    )
    .expect("in-memory rows never fail");
    written
}

fn encode(c: &mut Criterion) {
    let options = PrepareOptions::default();
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let (size, (w, h)) = planned(&jpeg, &options);
    let full = bench_api::jpeg_decode_rows(&jpeg, bench_api::jpeg_decode_denominator(size, (w, h)));
    let photo = resize(full, w, h);
    let quality = options.jpeg_quality;
    let mut group = c.benchmark_group("encode_4mp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(mp(&photo)));
    group.bench_function("jpeg_rows", |b| {
        b.iter(|| bench_api::jpeg_encode_rows(&photo, quality))
    });
    group.bench_function("jpeg_whole", |b| {
        b.iter_batched(
            || photo.clone(),
            |p| bench_api::jpeg_encode_whole(p, quality),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("png", |b| b.iter(|| bench_api::png_encode(&photo)));
    group.finish();
    eprintln!(
        "encode_4mp ({}x{} q{quality}): rows {} bytes, whole {} bytes, png {} bytes",
        w,
        h,
        bench_api::jpeg_encode_rows(&photo, quality).len(),
        bench_api::jpeg_encode_whole(photo.clone(), quality).len(),
        bench_api::png_encode(&photo).len()
    );
}

criterion_group!(benches, downscale, decode, resize_stage, encode);
criterion_main!(benches);
