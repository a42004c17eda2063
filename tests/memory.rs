//! Memory you can state: the CLI, run as a child process, stays under `--max-memory` on a
//! hostile PDF (many large-declared Flate images in a small file) and on a batch of
//! over-budget photos. Peak RSS comes from `wait4`'s rusage, for the whole life of the child.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use lopdf::{dictionary, Document, Object, Stream};
use serde_json::Value;

const MIB: u64 = 1 << 20;

/// Runs the binary with `args` and `RAYON_NUM_THREADS` = `threads` (a big server's worth of
/// workers on any machine); returns its JSON lines and its peak RSS in bytes.
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run(args: &[&str], threads: usize) -> (Vec<Value>, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mindee-prep"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet reaped (std never waits for it after this).
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "exit status {status}: {stdout}"
    );
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    // Linux reports ru_maxrss in KiB.
    (lines, usage.ru_maxrss as u64 * 1024)
}

/// A PDF of `count` pages, each drawing its own `side` × `side` RGB image of zeros: even
/// pages Flate-compressed twice (the whole-image path: inflated whole, as many at once as fit),
/// odd pages once with the PNG "None" predictor on every row (streamed row by row).
fn hostile_pdf(path: &Path, count: usize, side: u32) {
    let zlib = |rows: usize, row: usize| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; row * 64];
        let mut left = rows;
        while left > 0 {
            let n = left.min(64);
            z.write_all(&zeros[..n * row]).unwrap();
            left -= n;
        }
        z.finish().unwrap()
    };
    let plain = zlib(side as usize, side as usize * 3);
    let twice = {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&plain).unwrap();
        z.finish().unwrap()
    };
    let predicted = zlib(side as usize, 1 + side as usize * 3);
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let kids: Vec<Object> = (0..count)
        .map(|i| {
            let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Image",
            "Width" => side, "Height" => side, "ColorSpace" => "DeviceRGB",
            "BitsPerComponent" => 8 };
            let content = if i % 2 == 0 {
                dict.set(
                    "Filter",
                    vec![Object::from("FlateDecode"), Object::from("FlateDecode")],
                );
                twice.clone()
            } else {
                dict.set("Filter", "FlateDecode");
                dict.set(
                    "DecodeParms",
                    dictionary! { "Predictor" => 15, "Colors" => 3,
                    "BitsPerComponent" => 8, "Columns" => side },
                );
                predicted.clone()
            };
            let image = doc.add_object(Stream::new(dict, content));
            let page_content = doc.add_object(Stream::new(
                dictionary! {},
                b"q 600 0 0 600 0 0 cm /Im0 Do Q".to_vec(),
            ));
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 600.into(), 600.into()],
                "Contents" => page_content,
                "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
            })
            .into()
        })
        .collect();
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count as i64 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
}

#[test]
fn a_pdf_of_large_declared_images_stays_under_max_memory() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("bomb.pdf");
    // Eight 9 MP images: 216 MB of samples if inflated together, from a file of ~0.2 MB.
    hostile_pdf(&pdf, 8, 3000);
    assert!(std::fs::metadata(&pdf).unwrap().len() < 1 << 20);
    let out = dir.path().join("out");
    let limit = 128 * MIB;
    let (lines, peak) = run(
        &[
            "prepare",
            "--json",
            "--max-mp",
            "1",
            "--target-mp",
            "0.8",
            "--max-memory",
            "128M",
            pdf.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        8,
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], "ok", "{}", lines[0]);
    assert_eq!(lines[0]["action"], "downscaled", "{}", lines[0]);
    let images = lines[0]["page_images"].as_array().unwrap();
    assert_eq!(images.len(), 8);
    assert!(images.iter().all(|i| i["out_width"] == 894), "{images:?}");
    assert!(
        peak < limit,
        "peak RSS {} MiB over --max-memory {} MiB",
        peak / MIB,
        limit / MIB
    );
}

#[test]
fn a_batch_of_over_budget_photos_waits_for_its_share() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    // Eight 6 MP PNGs, each decoded whole (18 MB) on its way to a 4 MP JPEG.
    for i in 0..8 {
        std::fs::copy(
            common::fixture("png/rgb8_6mp.png"),
            inputs.join(format!("photo{i}.png")),
        )
        .unwrap();
    }
    let prepare = |max_memory: &str, out: &str| {
        let out = dir.path().join(out);
        run(
            &[
                "prepare",
                "--json",
                "--max-memory",
                max_memory,
                inputs.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
            8,
        )
    };
    let (lines, limited) = prepare("128M", "limited");
    assert_eq!(lines.len(), 8);
    assert!(
        lines.iter().all(|l| l["action"] == "downscaled"),
        "{lines:?}"
    );
    assert!(
        limited < 128 * MIB,
        "peak RSS {} MiB over --max-memory 128 MiB",
        limited / MIB
    );
    // With room for all eight, they run together: the limit above is what held them back.
    let (_, free) = prepare("4G", "free");
    assert!(
        free > limited,
        "limited {} MiB, unlimited {} MiB",
        limited / MIB,
        free / MIB
    );
}
