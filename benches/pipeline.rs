//! The whole path and its stages: 24 MP JPEG → ~4 MP JPEG, as `prepare` runs it, plus decode
//! (full and DCT-scaled), encode, and a pass-through. Throughput in source pixels per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mindee_prep::{prepare, PrepareOptions};

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
    group.bench_function("decode_full", |b| {
        b.iter(|| turbojpeg::decompress(&large, turbojpeg::PixelFormat::RGB).expect("decodes"))
    });
    group.bench_function("decode_half", |b| {
        b.iter(|| {
            let mut d = turbojpeg::Decompressor::new().expect("decompressor");
            d.set_scaling_factor(turbojpeg::ScalingFactor::ONE_HALF)
                .expect("scale");
            let header = d
                .read_header(&large)
                .expect("header")
                .scaled(d.scaling_factor());
            let mut pixels = vec![0u8; header.width * header.height * 3];
            let image = turbojpeg::Image {
                pixels: pixels.as_mut_slice(),
                width: header.width,
                pitch: header.width * 3,
                height: header.height,
                format: turbojpeg::PixelFormat::RGB,
            };
            d.decompress(&large, image).expect("decodes");
            pixels
        })
    });
    let small = turbojpeg::decompress(&fixture("jpeg/orient_1.jpg"), turbojpeg::PixelFormat::RGB)
        .expect("decodes");
    group.throughput(Throughput::Elements((small.width * small.height) as u64));
    group.bench_function("encode_6mp_q85", |b| {
        b.iter(|| {
            turbojpeg::compress(small.as_deref(), 85, turbojpeg::Subsamp::Sub2x2).expect("encodes")
        })
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

criterion_group!(benches, bench);
criterion_main!(benches);
