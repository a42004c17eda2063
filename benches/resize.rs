//! Resize throughput, 24 MP → the 4 MP budget, fast_image_resize (as `src/resize` drives it)
//! against `image::imageops::resize`, in one run. Every contender reads the same borrowed
//! source (no copy inside the timing) and writes a new image. Throughput is in source pixels
//! per second (criterion's "elem/s" = pixels/s).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use mindee_prep::{bench_api, detect, plan, Plan, PrepareOptions};

fn bench(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jpeg/large_24mp.jpg");
    let bytes = std::fs::read(path).expect("fixture");
    let found = detect(&bytes).expect("detects");
    let Plan::Downscale {
        width: tw,
        height: th,
        ..
    } = plan(&found, bytes.len() as u64, &PrepareOptions::default()).expect("plans")
    else {
        panic!("over budget");
    };
    let src = bench_api::jpeg_decode_rows(&bytes, 1);
    let (w, h) = (src.width(), src.height());
    let mut group = c.benchmark_group("resize_24mp_to_4mp");
    group.throughput(Throughput::Elements(u64::from(w) * u64::from(h)));
    group.sample_size(10);
    let borrowed = ImageRef::new(w, h, src.data(), PixelType::U8x3).expect("rgb");
    for (name, filter) in [
        ("lanczos3", mindee_prep::resize::FILTER),
        ("catmull_rom", FilterType::CatmullRom),
    ] {
        group.bench_function(BenchmarkId::new("fast_image_resize", name), |b| {
            b.iter(|| {
                let mut dst = Image::new(tw, th, PixelType::U8x3);
                let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
                Resizer::new()
                    .resize(&borrowed, &mut dst, &options)
                    .expect("resizes");
                dst
            })
        });
    }
    let buffer = image::RgbImage::from_raw(w, h, src.data().to_vec()).expect("rgb buffer");
    group.bench_function(BenchmarkId::new("image_imageops", "lanczos3"), |b| {
        b.iter(|| image::imageops::resize(&buffer, tw, th, image::imageops::FilterType::Lanczos3))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
