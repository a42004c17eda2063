//! Helpers shared by the `upload_*` integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use mindee_prep::upload::{ApiKey, Client, PollingOptions, RetryPolicy};

/// A distinctive key: tests grep every output for it.
pub const KEY: &str = "md_TEST_k3y_7f3a9c_MUST_NEVER_LEAK";
/// A well-formed model ID.
pub const MODEL: &str = "6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10";
/// Jobs for this model fail in the simulator when configured so.
pub const FAILING_MODEL: &str = "deadbeef-0000-4000-8000-00000000fa11";

/// Fast retries so fault tests take milliseconds, not seconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(2),
    }
}

/// The fastest polling the client allows (1 s).
pub fn fast_polling() -> PollingOptions {
    PollingOptions {
        initial_delay: Duration::from_secs(1),
        interval: Duration::from_secs(1),
        max_polls: 10,
    }
}

pub fn client(url: &str) -> Client {
    client_with_key(url, KEY)
}

pub fn client_with_key(url: &str, key: &str) -> Client {
    Client::builder()
        .api_key(ApiKey::new(key).expect("test key is valid"))
        .base_url(url)
        .timeout(Duration::from_secs(10))
        .retry_policy(fast_retry())
        .build()
        .expect("client builds")
}

/// `tests/data/mindee-v2`: recorded API responses (see the README there). Missing data fails
/// the test loudly, with the path: these tests never skip.
pub fn conformance_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mindee-v2");
    assert!(
        dir.is_dir(),
        "conformance data missing at {}",
        dir.display()
    );
    dir
}

/// Every `*.json` under `dir`, sorted.
pub fn json_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid 8-bit greyscale PNG (stored deflate blocks: no compressor needed).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        raw.extend((0..width).map(|x| ((x + y) % 256) as u8));
    }
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend(*c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", b"");
    out
}

/// A minimal valid PDF with `pages` empty pages.
pub fn pdf(pages: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", i + 3)).collect();
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
    ];
    for _ in 0..pages {
        objs.push("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".into());
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Distinct small inputs: PNGs of different sizes (so their bytes, hence journal keys, differ).
pub fn distinct_pngs(dir: &std::path::Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let p = dir.join(n);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&p, png(8 + i as u32, 8)).unwrap();
            p
        })
        .collect()
}

/// The largest number of `times` (seconds) inside any window of `window` seconds.
pub fn max_in_window(times: &[f64], window: f64) -> usize {
    let mut t = times.to_vec();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (0..t.len())
        .map(|i| t[i..].iter().take_while(|u| **u < t[i] + window).count())
        .max()
        .unwrap_or(0)
}
