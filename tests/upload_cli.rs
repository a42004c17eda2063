//! The built binary: `upload` against `mock-server` run as a child process.

mod upload_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use mindee_prep::upload::model::InferenceResponse;
use serde_json::Value;
use upload_common::*;

const BIN: &str = env!("CARGO_BIN_EXE_mindee-prep");

/// The simulator as a child process, killed on drop.
struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(extra: &[&str]) -> Mock {
        let mut child = Command::new(BIN)
            .args([
                "mock-server",
                "--port",
                "0",
                "--api-key",
                KEY,
                "--processing-polls",
                "0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mock-server starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("URL line")
            .to_string();
        Mock { child, url }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upload(mock_url: &str, key: Option<&str>, args: &[&str], cwd: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .arg("upload")
        .args(["--initial-delay", "1", "--poll-interval", "1"])
        .args(args)
        .env("MINDEE_V2_BASE_URL", mock_url)
        .env_remove("MINDEE_V2_API_KEY");
    if let Some(k) = key {
        cmd.env("MINDEE_V2_API_KEY", k);
    }
    cmd.output().expect("upload runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn status_of<'a>(lines: &'a [Value], suffix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l["input"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no line for {suffix}: {lines:?}"))["status"]
        .as_str()
        .unwrap()
}

fn assert_no_key(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(KEY),
            "the key leaked"
        );
    }
}

#[test]
fn upload_writes_results_skips_on_rerun_and_reports_refusals() {
    let mock = Mock::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let inputs = work.path().join("in");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::fs::write(inputs.join("a.png"), png(30, 20)).unwrap();
    std::fs::write(inputs.join("sub/b.pdf"), pdf(2)).unwrap();
    std::fs::write(
        inputs.join("bad.gif"),
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00",
    )
    .unwrap();
    std::fs::write(inputs.join("empty.png"), b"").unwrap();

    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "--json", "-o", "res", "in"],
        work.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "refused files make the run fail: {out:?}"
    );
    assert_no_key(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(status_of(&lines, "a.png"), "ok");
    assert_eq!(status_of(&lines, "b.pdf"), "ok");
    assert_eq!(status_of(&lines, "bad.gif"), "rejected");
    assert_eq!(status_of(&lines, "empty.png"), "rejected");
    let empty = lines
        .iter()
        .find(|l| l["input"].as_str().unwrap().ends_with("empty.png"))
        .unwrap();
    assert_eq!(empty["error"]["kind"], "empty_file");

    for (stem, name, pages) in [("a", "a.png", 1), ("b", "b.pdf", 2)] {
        let path = work.path().join("res").join(format!("{stem}.json"));
        let r: InferenceResponse = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(r.inference.file.name, name);
        assert_eq!(r.inference.file.page_count, pages);
    }
    let leftovers: Vec<_> = std::fs::read_dir(work.path().join("res"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Again: results exist, so nothing is sent for them.
    let before = std::fs::read(work.path().join("res/a.json")).unwrap();
    let out = upload(
        &mock.url,
        Some(KEY),
        &[
            "--model-id",
            MODEL,
            "--json",
            "-o",
            "res",
            "in/a.png",
            "in/sub",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(status_of(&lines, "a.png"), "skipped");
    assert_eq!(status_of(&lines, "b.pdf"), "skipped");
    assert_eq!(
        std::fs::read(work.path().join("res/a.json")).unwrap(),
        before
    );

    // --force redoes them (a new job, so a new inference ID).
    let out = upload(
        &mock.url,
        Some(KEY),
        &[
            "--model-id",
            MODEL,
            "--force",
            "--json",
            "-o",
            "res",
            "in/a.png",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(status_of(&json_lines(&out), "a.png"), "ok");
    assert_ne!(
        std::fs::read(work.path().join("res/a.json")).unwrap(),
        before
    );

    // The table for people.
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "-o", "res", "in/a.png"],
        work.path(),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("STATUS"), "{table}");
    assert!(table.contains("skipped"), "{table}");
}

#[test]
fn no_wait_prints_job_ids() {
    let mock = Mock::start(&[]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("x.png"), png(10, 10)).unwrap();
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "--no-wait", "--json", "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["status"], "enqueued");
    assert_eq!(lines[0]["job_id"].as_str().unwrap().len(), 36);
    assert!(!work.path().join("results/x.json").exists());
}

#[test]
fn failures_and_exit_codes() {
    let mock = Mock::start(&["--fail-model-id", FAILING_MODEL]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("x.png"), png(10, 10)).unwrap();

    // No key: a configuration error before anything is sent, exit 2.
    let out = upload(
        &mock.url,
        None,
        &["--model-id", MODEL, "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("MINDEE_V2_API_KEY"));

    // Wrong key: the file fails with `unauthorized`, exit 1, no key in any output.
    let wrong = "md_WRONG_cli_key_91d2";
    let out = upload(
        &mock.url,
        Some(wrong),
        &["--model-id", MODEL, "--json", "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["error"]["kind"], "unauthorized");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("MINDEE_V2_API_KEY"));
    for s in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(s).contains(wrong));
    }

    // A job the API fails: job_failed with the server's details.
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", FAILING_MODEL, "--json", "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["error"]["kind"], "job_failed");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("500-012"));
    assert_no_key(&out);

    // A malformed model ID: api error with the pointer.
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", "nope", "--json", "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(json_lines(&out)[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("#/model_id"));

    // Plain http to a non-loopback host is refused before anything: exit 2.
    let out = upload(
        "http://example.com",
        Some(KEY),
        &["--model-id", MODEL, "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clear text"));

    // Usage errors are clap's: exit 2.
    let out = upload(&mock.url, Some(KEY), &["x.png"], work.path());
    assert_eq!(out.status.code(), Some(2));
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "--poll-interval", "0.5", "x.png"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prepare_flags_apply_before_upload() {
    let mock = Mock::start(&[]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("doc.pdf"), pdf(3)).unwrap();
    let page_count = |dir: &str| -> Value {
        let raw = std::fs::read(work.path().join(dir).join("doc.json")).unwrap();
        serde_json::from_slice::<Value>(&raw).unwrap()["inference"]["file"]["page_count"].clone()
    };

    // Without flags the whole document goes.
    let args = ["--model-id", MODEL, "--json", "-o", "all", "doc.pdf"];
    let out = upload(&mock.url, Some(KEY), &args, work.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(page_count("all"), 3);

    // `prepare`'s page selection works here too: the API sees the first and last pages only.
    let args = [
        "--model-id",
        MODEL,
        "--json",
        "--pages",
        "0,-1",
        "-o",
        "ends",
        "doc.pdf",
    ];
    let out = upload(&mock.url, Some(KEY), &args, work.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(page_count("ends"), 2);

    // And its options are checked like `prepare`'s, before anything is sent: exit 2.
    let args = [
        "--model-id",
        MODEL,
        "--quality",
        "0",
        "-o",
        "bad",
        "doc.pdf",
    ];
    let out = upload(&mock.url, Some(KEY), &args, work.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("quality"),
        "{out:?}"
    );
    assert!(!work.path().join("bad").exists());
}
