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

/// `GET /_mock/stats` of a simulator child process.
fn mock_stats(url: &str) -> Value {
    use std::io::{Read, Write};
    let host = url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /_mock/stats HTTP/1.1\r\nHost: {host}\r\nAuthorization: {KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = &buf[buf.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap()
}

fn write_pngs(dir: &Path, n: usize) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let name = format!("f{i:02}.png");
            std::fs::write(dir.join(&name), png(8 + i as u32, 8)).unwrap();
            name
        })
        .collect()
}

fn grep_tree(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        if String::from_utf8_lossy(&bytes).contains(needle) {
            hits.push(entry.display().to_string());
        }
    }
    hits
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn default_command_rides_out_the_fault_mix() {
    // 15 % 429, 10 % 500, 5 % dropped connections on every request.
    let mock = Mock::start(&[
        "--p429", "0.15", "--p500", "0.10", "--pdrop", "0.05", "--seed", "42",
    ]);
    let work = tempfile::tempdir().unwrap();
    let names = write_pngs(&work.path().join("in"), 10);
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "--json", "-o", "res", "in"],
        work.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_key(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:?}");
    for n in &names {
        let stem = n.trim_end_matches(".png");
        assert!(work.path().join(format!("res/{stem}.json")).is_file());
    }
    let stats = mock_stats(&mock.url);
    let jobs = stats["jobs_created"].as_u64().unwrap();
    let hidden = stats["hidden_jobs"].as_u64().unwrap();
    let marked = lines
        .iter()
        .filter(|l| l["possible_duplicate"] == true)
        .count();
    let duplicated: Vec<&String> = stats["jobs_per_file"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n.as_u64().unwrap() > 1)
        .map(|(f, _)| f)
        .collect();
    eprintln!(
        "CLI fault mix: 10/10 results, {jobs} jobs ({hidden} hidden), {} faults, {} requests, {} files with >1 job, {marked} marked",
        stats["faults_injected"], stats["requests"].as_array().unwrap().len(), duplicated.len()
    );
    assert_eq!(jobs, 10 + hidden);
    for f in duplicated {
        let line = lines
            .iter()
            .find(|l| l["input"].as_str().unwrap().ends_with(f.as_str()))
            .unwrap();
        assert_eq!(line["possible_duplicate"], true, "{f}");
    }
}

#[test]
fn sigkill_mid_batch_then_rerun_loses_nothing_and_resends_no_journaled_job() {
    let mock = Mock::start(&["--latency-ms", "150"]);
    let work = tempfile::tempdir().unwrap();
    let names = write_pngs(&work.path().join("in"), 8);
    let mut child = Command::new(BIN)
        .current_dir(work.path())
        .args(["upload", "--initial-delay", "1", "--poll-interval", "1"])
        .args([
            "--model-id",
            MODEL,
            "--json",
            "--concurrency",
            "3",
            "-o",
            "res",
            "in",
        ])
        .env("MINDEE_V2_BASE_URL", &mock.url)
        .env("MINDEE_V2_API_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill (SIGKILL) once a few jobs exist, while others are being sent or polled.
    let started = std::time::Instant::now();
    while mock_stats(&mock.url)["jobs_created"].as_u64().unwrap() < 3 {
        assert!(started.elapsed().as_secs() < 30, "the batch did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed mid-batch");
    let before = mock_stats(&mock.url);
    let journal_path = work.path().join("res/.mindee-prep/journal.sqlite");
    let journaled: Vec<(String, String)> = {
        use mindee_prep::upload::journal::{Access, Journal};
        let j =
            Journal::open(&journal_path, Access::ReadOnly).expect("the journal survived the kill");
        j.entries()
            .unwrap()
            .into_iter()
            .filter_map(|e| e.job_id.map(|id| (e.input, id)))
            .collect()
    };
    assert!(!journaled.is_empty());
    let done_before = names
        .iter()
        .filter(|n| {
            work.path()
                .join(format!("res/{}.json", n.trim_end_matches(".png")))
                .is_file()
        })
        .count();
    assert!(done_before < names.len(), "the kill landed after the batch");

    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "--json", "-o", "res", "in"],
        work.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), names.len());
    for n in &names {
        assert!(work
            .path()
            .join(format!("res/{}.json", n.trim_end_matches(".png")))
            .is_file());
    }
    let after = mock_stats(&mock.url);
    let per_file = after["jobs_per_file"].as_object().unwrap();
    for (input, _) in &journaled {
        let name = Path::new(input)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            per_file[&name], 1,
            "{name} had a journaled job and was enqueued again"
        );
    }
    for (name, n) in per_file {
        if n.as_u64().unwrap() > 1 {
            let line = lines
                .iter()
                .find(|l| l["input"].as_str().unwrap().ends_with(name.as_str()))
                .unwrap();
            assert_eq!(
                line["possible_duplicate"], true,
                "{name}: two jobs, not marked"
            );
        }
    }
    eprintln!(
        "SIGKILL: {} jobs before the kill ({} journaled), {} results on disk; after the rerun {} jobs for {} files",
        before["jobs_created"], journaled.len(), done_before, after["jobs_created"], names.len()
    );
}

#[test]
fn damaged_journal_exits_2_and_sends_nothing() {
    let mock = Mock::start(&[]);
    let work = tempfile::tempdir().unwrap();
    write_pngs(&work.path().join("in"), 2);
    std::fs::create_dir_all(work.path().join("res/.mindee-prep")).unwrap();
    std::fs::write(
        work.path().join("res/.mindee-prep/journal.sqlite"),
        b"garbage, not SQLite",
    )
    .unwrap();
    let cmd = ["--model-id", MODEL, "-o", "res", "in"];
    let out = upload(&mock.url, Some(KEY), &cmd, work.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("journal.sqlite"),
        "{err}"
    );
    let status = Command::new(BIN)
        .current_dir(work.path())
        .args(["status", "res"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(2));
    let collect = Command::new(BIN)
        .current_dir(work.path())
        .args(["collect", "res"])
        .env("MINDEE_V2_BASE_URL", &mock.url)
        .env("MINDEE_V2_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(collect.status.code(), Some(2), "{collect:?}");
    assert_eq!(mock_stats(&mock.url)["enqueue_requests"], 0);
    assert_eq!(
        std::fs::read(work.path().join("res/.mindee-prep/journal.sqlite")).unwrap(),
        b"garbage, not SQLite"
    );
}

#[test]
fn no_wait_status_collect_and_secrets_stay_out_of_files() {
    let mock = Mock::start(&[]);
    let work = tempfile::tempdir().unwrap();
    write_pngs(&work.path().join("in"), 3);
    let out = upload(
        &mock.url,
        Some(KEY),
        &[
            "--model-id",
            MODEL,
            "--no-wait",
            "--raw-text",
            "--text-context",
            "invoices",
            "--json",
            "-o",
            "res",
            "in",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(json_lines(&out).iter().all(|l| l["status"] == "enqueued"));
    let status = |json: bool| {
        let mut c = Command::new(BIN);
        c.current_dir(work.path()).arg("status").arg("res");
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };
    let s = status(true);
    assert_eq!(s.status.code(), Some(1), "not done yet");
    let rows: Vec<Value> = json_lines(&s);
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["state"] == "enqueued" && r["job_id"].is_string()));
    assert!(String::from_utf8_lossy(&s.stderr).contains("3 enqueued"));

    let collect = Command::new(BIN)
        .current_dir(work.path())
        .args([
            "collect",
            "res",
            "--initial-delay",
            "1",
            "--poll-interval",
            "1",
            "--json",
        ])
        .env("MINDEE_V2_BASE_URL", &mock.url)
        .env("MINDEE_V2_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(collect.status.code(), Some(0), "{collect:?}");
    assert!(json_lines(&collect).iter().all(|l| l["status"] == "ok"));
    assert_eq!(
        mock_stats(&mock.url)["jobs_created"],
        3,
        "collect enqueues nothing"
    );
    let s = status(false);
    assert_eq!(s.status.code(), Some(0));
    let table = String::from_utf8_lossy(&s.stdout);
    assert!(
        table.starts_with("STATE") && table.matches("done").count() == 3,
        "{table}"
    );
    let r: Value =
        serde_json::from_slice(&std::fs::read(work.path().join("res/f00.json")).unwrap()).unwrap();
    assert_eq!(r["inference"]["active_options"]["raw_text"], true);
    assert_eq!(r["inference"]["active_options"]["text_context"], true);
    // Neither the key nor any part of it is in the journal or the results.
    assert!(grep_tree(&work.path().join("res"), KEY).is_empty());
    assert!(grep_tree(&work.path().join("res"), "7f3a9c").is_empty());
    assert_no_key(&collect);
}

#[test]
fn search_models_and_help_of_every_new_command() {
    let mock = Mock::start(&[]);
    let out = Command::new(BIN)
        .args(["search-models", "--model-type", "extraction"])
        .env("MINDEE_V2_BASE_URL", &mock.url)
        .env("MINDEE_V2_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Invoices (simulated)") && !table.contains("split"),
        "{table}"
    );
    let out = Command::new(BIN)
        .args(["search-models", "--name", "bank", "--json"])
        .env("MINDEE_V2_BASE_URL", &mock.url)
        .env("MINDEE_V2_API_KEY", KEY)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"].as_array().unwrap().len(), 1);
    assert_eq!(v["models"][0]["model_type"], "split");

    for (cmd, needle) in [
        ("status", "RESULTS_DIR"),
        ("collect", "--max-polls"),
        ("webhook-server", "--tls-cert"),
        ("search-models", "--model-type"),
        ("upload", "--enqueue-retries"),
        ("upload", "--max-enqueues-per-minute"),
        ("upload", "--data-schema"),
        ("mock-server", "--pdrop"),
        ("mock-server", "--webhook"),
    ] {
        let out = Command::new(BIN).args([cmd, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(needle), "{cmd} --help lacks {needle}");
    }
    // http:// inputs and a webhook server without a secret: usage errors, exit 2.
    let work = tempfile::tempdir().unwrap();
    let out = upload(
        &mock.url,
        Some(KEY),
        &["--model-id", MODEL, "http://example.com/a.pdf"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"));
    let out = Command::new(BIN)
        .args(["webhook-server", "-o", "r", "--port", "0"])
        .current_dir(work.path())
        .env_remove("MINDEE_V2_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MINDEE_V2_WEBHOOK_SECRET"));
}
