//! Helpers shared by the integration tests: fixture paths and pixel comparisons.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Decodes JPEG or PNG output to RGB8 (gray expanded, alpha composited on white).
pub fn decode_rgb(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let img =
            turbojpeg::decompress(bytes, turbojpeg::PixelFormat::RGB).expect("output JPEG decodes");
        return (img.width as u32, img.height as u32, img.pixels);
    }
    let img = image::load_from_memory(bytes)
        .expect("output decodes")
        .into_rgba8();
    let (w, h) = img.dimensions();
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for px in img.pixels() {
        let a = u32::from(px[3]);
        for c in 0..3 {
            rgb.push(((u32::from(px[c]) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    (w, h, rgb)
}

/// Scales RGB8 down to `w` × `h` with a box average (good enough to compare pictures).
pub fn shrink_rgb(src: &(u32, u32, Vec<u8>), w: u32, h: u32) -> Vec<u8> {
    let (sw, sh, data) = (src.0 as usize, src.1 as usize, &src.2);
    let mut out = vec![0u8; (w * h * 3) as usize];
    for y in 0..h as usize {
        let (y0, y1) = (
            y * sh / h as usize,
            ((y + 1) * sh / h as usize).max(y * sh / h as usize + 1),
        );
        for x in 0..w as usize {
            let (x0, x1) = (
                x * sw / w as usize,
                ((x + 1) * sw / w as usize).max(x * sw / w as usize + 1),
            );
            for c in 0..3 {
                let mut sum = 0u64;
                for yy in y0..y1 {
                    for xx in x0..x1 {
                        sum += u64::from(data[(yy * sw + xx) * 3 + c]);
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as u64;
                out[(y * w as usize + x) * 3 + c] = (sum / n) as u8;
            }
        }
    }
    out
}

/// Mean absolute difference per sample.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "compared images differ in size");
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.len() as f64
}

pub fn megapixels(w: u32, h: u32) -> f64 {
    f64::from(w) * f64::from(h) / 1e6
}
