//! Per-stage throughput, per format, in megapixels per second (criterion's "elem/s" here counts
//! pixels: Melem/s = MP/s). Inputs are the bundled fixtures.
//!
//! - decode: JPEG 24 MP full and ½ (DCT scale), PNG 6 MP, WebP 6 MP lossy and lossless, HEIC
//!   12 MP grid (48 tiles of 512 px). Throughput counts the *source* pixels.
//! - resize: Lanczos3 to the 4 MP budget from 24 MP (full decode), 6 MP (½ decode) and 12 MP
//!   (HEIC), and the banded (row-streaming) resize from 24 MP that the JPEG path uses.
//!   Throughput counts the source pixels.
//! - encode: JPEG q85 4:2:0 (Huffman optimisation off, as shipped, and on), PNG (zlib default,
//!   adaptive filters) of a 4 MP result. Throughput counts the encoded pixels.
//!
//! The codec modules are private, so the decoders and encoders are called here with the same
//! settings as `src/codec/*.rs` (turbojpeg, `image`, libheif-rs); resize is the crate's own.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image::{DynamicImage, ImageEncoder};
use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, LibHeif, RgbChroma};
use mindee_prep::geometry::budget_size;
use mindee_prep::resize::{resize, resize_rows};
use mindee_prep::Pixels;
use turbojpeg::{Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn jpeg_decode(data: &[u8], denominator: usize) -> Pixels {
    let mut d = Decompressor::new().expect("decompressor");
    d.set_scaling_factor(ScalingFactor::new(1, denominator))
        .expect("scale");
    let header = d
        .read_header(data)
        .expect("header")
        .scaled(d.scaling_factor());
    let mut pixels = vec![0u8; header.width * header.height * 3];
    d.decompress(
        data,
        Image {
            pixels: pixels.as_mut_slice(),
            width: header.width,
            pitch: header.width * 3,
            height: header.height,
            format: PixelFormat::RGB,
        },
    )
    .expect("decodes");
    Pixels::new(header.width as u32, header.height as u32, 3, pixels).expect("rgb")
}

fn heif_decode(data: &[u8]) -> Pixels {
    let lib = LibHeif::new();
    let mut context = HeifContext::read_from_bytes(data).expect("heif");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    context.set_max_decoding_threads(threads);
    let handle = context.primary_image_handle().expect("primary");
    let mut options = DecodingOptions::new();
    if let Some(options) = options.as_mut() {
        options.set_convert_hdr_to_8bit(true);
        options.set_num_library_threads(threads);
    }
    let image = lib
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), options)
        .expect("decodes");
    let plane = image.planes().interleaved.expect("interleaved");
    let (w, h) = (plane.width as usize, plane.height as usize);
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        out.extend_from_slice(&plane.data[y * plane.stride..y * plane.stride + w * 3]);
    }
    Pixels::new(w as u32, h as u32, 3, out).expect("rgb")
}

fn image_decode(data: &[u8]) -> DynamicImage {
    image::load_from_memory(data).expect("decodes")
}

fn mp(pixels: &Pixels) -> u64 {
    u64::from(pixels.width()) * u64::from(pixels.height())
}

fn to_budget(pixels: &Pixels) -> (u32, u32) {
    budget_size(pixels.width(), pixels.height(), 5_000_000, 4_000_000).expect("over budget")
}

fn jpeg_encode(pixels: &Pixels, optimize: bool) -> Vec<u8> {
    let mut c = Compressor::new().expect("compressor");
    c.set_quality(85).expect("quality");
    c.set_subsamp(Subsamp::Sub2x2).expect("subsamp");
    c.set_optimize(optimize).expect("optimize");
    c.compress_to_vec(Image {
        pixels: pixels.data(),
        width: pixels.width() as usize,
        pitch: pixels.width() as usize * 3,
        height: pixels.height() as usize,
        format: PixelFormat::RGB,
    })
    .expect("encodes")
}

fn png_encode(pixels: &Pixels) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(
            pixels.data(),
            pixels.width(),
            pixels.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encodes");
    out
}

fn decode(c: &mut Criterion) {
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let png = fixture("png/rgb8_6mp.png");
    let webp_lossy = fixture("webp/lossy_6mp.webp");
    let webp_lossless = fixture("webp/lossless_6mp.webp");
    let heic = fixture("heif/grid_12mp.heic");

    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    let full = jpeg_decode(&jpeg, 1);
    group.throughput(Throughput::Elements(mp(&full)));
    group.bench_function("jpeg_24mp_full", |b| b.iter(|| jpeg_decode(&jpeg, 1)));
    group.bench_function("jpeg_24mp_half", |b| b.iter(|| jpeg_decode(&jpeg, 2)));
    for (name, data) in [
        ("png_6mp_rgb8", &png),
        ("webp_6mp_lossy", &webp_lossy),
        ("webp_6mp_lossless", &webp_lossless),
    ] {
        let img = image_decode(data);
        group.throughput(Throughput::Elements(
            u64::from(img.width()) * u64::from(img.height()),
        ));
        group.bench_function(name, |b| b.iter(|| image_decode(data)));
    }
    let decoded = heif_decode(&heic);
    group.throughput(Throughput::Elements(mp(&decoded)));
    group.bench_function("heic_12mp_grid", |b| b.iter(|| heif_decode(&heic)));
    group.finish();
}

fn resize_stage(c: &mut Criterion) {
    let jpeg = fixture("jpeg/large_24mp.jpg");
    let sources = [
        ("from_24mp_full_decode", jpeg_decode(&jpeg, 1)),
        ("from_6mp_half_decode", jpeg_decode(&jpeg, 2)),
        (
            "from_12mp_heic",
            heif_decode(&fixture("heif/grid_12mp.heic")),
        ),
    ];
    let mut group = c.benchmark_group("resize_lanczos3");
    group.sample_size(10);
    for (name, src) in &sources {
        let (w, h) = to_budget(src);
        group.throughput(Throughput::Elements(mp(src)));
        group.bench_function(*name, |b| b.iter(|| resize(src.clone(), w, h)));
    }
    // The same resize on a stream of rows (what the JPEG path feeds from libjpeg), no clone.
    let (name, src) = &sources[0];
    let (w, h) = to_budget(src);
    group.throughput(Throughput::Elements(mp(src)));
    group.bench_function(format!("{name}_banded"), |b| b.iter(|| banded(src, w, h)));
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
    let full = jpeg_decode(&fixture("jpeg/large_24mp.jpg"), 2);
    let (w, h) = to_budget(&full);
    let photo = resize(full, w, h);
    let mut group = c.benchmark_group("encode_4mp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(mp(&photo)));
    for optimize in [false, true] {
        let id = BenchmarkId::new("jpeg_q85_420", if optimize { "optimized" } else { "plain" });
        group.bench_function(id, |b| b.iter(|| jpeg_encode(&photo, optimize)));
    }
    group.bench_function("png_default_adaptive", |b| b.iter(|| png_encode(&photo)));
    group.finish();
    // Sizes, for the record (criterion only reports time).
    for optimize in [false, true] {
        eprintln!(
            "encode_4mp/jpeg_q85_420 optimize={optimize}: {} bytes",
            jpeg_encode(&photo, optimize).len()
        );
    }
}

criterion_group!(benches, decode, resize_stage, encode);
criterion_main!(benches);
