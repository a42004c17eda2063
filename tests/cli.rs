//! The command-line contract: JSON lines, exit statuses, output naming, inputs untouched.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fixture;
use serde_json::Value;

fn mindee_prep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mindee-prep"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn copy_fixtures(dir: &Path, names: &[&str]) {
    for name in names {
        let target = dir.join(Path::new(name).file_name().unwrap());
        std::fs::copy(fixture(name), target).unwrap();
    }
}

#[test]
fn prepare_json_lines_and_exit_status_one_when_some_are_refused() {
    let inputs = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    copy_fixtures(
        inputs.path(),
        &[
            "jpeg/large_24mp.jpg",
            "jpeg/small_2mp.jpg",
            "webp/animated.webp",
        ],
    );
    let before: Vec<Vec<u8>> = ["large_24mp.jpg", "small_2mp.jpg", "animated.webp"]
        .iter()
        .map(|n| std::fs::read(inputs.path().join(n)).unwrap())
        .collect();

    let run = mindee_prep(&[
        "prepare",
        "--json",
        inputs.path().to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines = json_lines(&run);
    assert_eq!(lines.len(), 3);
    // Directory inputs are sorted by name, and lines come in input order.
    let inputs_seen: Vec<&str> = lines.iter().map(|l| l["input"].as_str().unwrap()).collect();
    assert!(inputs_seen[0].ends_with("animated.webp") && inputs_seen[2].ends_with("small_2mp.jpg"));

    let animated = &lines[0];
    assert_eq!(animated["status"], "rejected");
    assert_eq!(animated["format"], "webp");
    assert_eq!(animated["error"]["kind"], "animated_image");

    let large = &lines[1];
    assert_eq!(large["status"], "ok");
    assert_eq!(large["action"], "downscaled");
    assert_eq!(large["format"], "jpeg");
    assert_eq!(large["output_format"], "jpeg");
    assert_eq!(
        (large["width"].as_u64(), large["height"].as_u64()),
        (Some(6000), Some(4000))
    );
    assert_eq!(
        (large["out_width"].as_u64(), large["out_height"].as_u64()),
        (Some(2450), Some(1633))
    );
    for key in ["pages", "bytes_in", "bytes_out", "millis"] {
        assert!(large[key].is_u64(), "{key} in {large}");
    }
    let written = Path::new(large["output"].as_str().unwrap());
    assert_eq!(written.file_name().unwrap(), "large_24mp.jpg");
    assert_eq!(
        std::fs::metadata(written).unwrap().len(),
        large["bytes_out"].as_u64().unwrap()
    );

    let small = &lines[2];
    assert_eq!(small["action"], "passthrough");
    let copied = std::fs::read(small["output"].as_str().unwrap()).unwrap();
    assert_eq!(copied, before[1], "pass-through output is byte-identical");

    // Inputs are untouched; no temporary files are left behind.
    for (n, bytes) in ["large_24mp.jpg", "small_2mp.jpg", "animated.webp"]
        .iter()
        .zip(&before)
    {
        assert_eq!(&std::fs::read(inputs.path().join(n)).unwrap(), bytes);
    }
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn exit_status_zero_when_all_prepared_and_names_are_made_unique() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("jpeg/small_2mp.jpg"), a.path().join("scan.jpg")).unwrap();
    std::fs::copy(fixture("png/small_rgb.png"), b.path().join("scan.png")).unwrap();
    let out_dir = out.path().to_str().unwrap();
    let files = [a.path().join("scan.jpg"), b.path().join("scan.png")];
    let run = mindee_prep(&[
        "prepare",
        "--json",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "-o",
        out_dir,
    ]);
    assert_eq!(run.status.code(), Some(0));
    let names: Vec<String> = json_lines(&run)
        .iter()
        .map(|l| {
            Path::new(l["output"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["scan.jpg", "scan-1.png"]);

    // Running again never overwrites what is there.
    let again = mindee_prep(&[
        "prepare",
        "--json",
        files[0].to_str().unwrap(),
        "-o",
        out_dir,
    ]);
    assert_eq!(again.status.code(), Some(0));
    let line = &json_lines(&again)[0];
    assert!(
        line["output"].as_str().unwrap().ends_with("scan-1.jpg"),
        "{line}"
    );
}

#[test]
fn usage_errors_exit_with_two() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let small = fixture("jpeg/small_2mp.jpg");
    let small = small.to_str().unwrap();
    assert_eq!(
        mindee_prep(&["prepare", small]).status.code(),
        Some(2),
        "missing -o"
    );
    assert_eq!(
        mindee_prep(&["prepare", "--target-mp", "9", small, "-o", o])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        mindee_prep(&["prepare", "--quality", "0", small, "-o", o])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        mindee_prep(&["prepare", "/no/such/file.jpg", "-o", o])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(mindee_prep(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn table_for_people() {
    let out = tempfile::tempdir().unwrap();
    let run = mindee_prep(&[
        "prepare",
        fixture("jpeg/small_2mp.jpg").to_str().unwrap(),
        fixture("other/image.gif").to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.starts_with("INPUT"), "{text}");
    assert!(
        text.contains("passthrough")
            && text.contains("REJECTED")
            && text.contains("unsupported_format: GIF"),
        "{text}"
    );
    assert!(text.contains("1 prepared, 1 refused"), "{text}");
}

#[test]
fn inspect_prints_what_detection_sees() {
    let run = mindee_prep(&[
        "inspect",
        fixture("jpeg/orient_6.jpg").to_str().unwrap(),
        fixture("webp/animated.webp").to_str().unwrap(),
        fixture("other/image.bmp").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let lines = json_lines(&run);
    assert_eq!(lines[0]["format"], "jpeg");
    assert_eq!(lines[0]["orientation"], 6);
    assert_eq!(lines[0]["status"], "ok");
    assert_eq!(lines[1]["status"], "rejected");
    assert_eq!(lines[1]["error"]["kind"], "animated_image");
    assert_eq!(lines[1]["frames"], 3);
    assert_eq!(lines[2]["error"]["kind"], "unsupported_format");
    assert_eq!(lines[2]["format"], "bmp");
}
