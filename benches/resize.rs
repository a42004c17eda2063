//! Resize throughput, 24 MP → 4 MP, fast_image_resize against `image::imageops::resize`, in one
//! run. Throughput is in source pixels per second (criterion's "elem/s" = pixels/s).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fast_image_resize::FilterType;
use mindee_prep::resize::resize_with;
use mindee_prep::Pixels;

fn source() -> Pixels {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jpeg/large_24mp.jpg");
    let bytes = std::fs::read(path).expect("fixture");
    let img = turbojpeg::decompress(&bytes, turbojpeg::PixelFormat::RGB).expect("decodes");
    Pixels::new(img.width as u32, img.height as u32, 3, img.pixels).expect("rgb")
}

fn bench(c: &mut Criterion) {
    let src = source();
    let (w, h) = (src.width(), src.height());
    let (tw, th) =
        mindee_prep::geometry::budget_size(w, h, 5_000_000, 4_000_000).expect("over budget");
    let mut group = c.benchmark_group("resize_24mp_to_4mp");
    group.throughput(Throughput::Elements(u64::from(w) * u64::from(h)));
    group.sample_size(10);
    for (name, filter) in [
        ("lanczos3", FilterType::Lanczos3),
        ("catmull_rom", FilterType::CatmullRom),
    ] {
        group.bench_function(BenchmarkId::new("fast_image_resize", name), |b| {
            b.iter(|| resize_with(src.clone(), tw, th, filter))
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
