//! Batches through the job journal against the simulator on loopback: faults, reruns,
//! `--no-wait` + collect, pacing, result names, damaged journals.

mod upload_common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mindee_prep::upload::batch::{collect, upload_files, Input, UploadBatch, UploadStatus};
use mindee_prep::upload::journal::{self, Access, Journal, State};
use mindee_prep::upload::mock::{Fault, FaultKind, MockConfig, MockServer, RandomFaults, Route};
use mindee_prep::upload::{ApiKey, Client, EnqueueParams, RateLimits, RetryPolicy};
use upload_common::*;

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(MockConfig {
        api_key: Some(KEY.into()),
        ..config
    })
    .await
    .expect("simulator starts")
}

fn batch(results: &Path) -> UploadBatch {
    UploadBatch {
        polling: fast_polling(),
        ..UploadBatch::new(EnqueueParams::new(MODEL), results)
    }
}

fn inputs(paths: &[PathBuf]) -> Vec<Input> {
    paths.iter().cloned().map(Input::Path).collect()
}

fn patient_client(url: &str, limits: RateLimits) -> Client {
    Client::builder()
        .api_key(ApiKey::new(KEY).unwrap())
        .base_url(url)
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy {
            max_attempts: 8,
            ..fast_retry()
        })
        .rate_limits(limits)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_mix_every_file_one_result_duplicates_marked() {
    let server = mock(MockConfig {
        processing_polls: 1,
        random_faults: Some(RandomFaults {
            p429: 0.15,
            p500: 0.10,
            pdrop: 0.05,
            seed: 20_240_917,
        }),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..16).map(|i| format!("doc{i:02}.png")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let files = distinct_pngs(&dir.path().join("in"), &names);
    let results = dir.path().join("res");
    let client = patient_client(&server.url(), RateLimits::default());
    let outcomes = upload_files(&client, inputs(&files), &batch(&results), |_| {})
        .await
        .unwrap();

    let ok = outcomes
        .iter()
        .filter(|o| matches!(o.status, UploadStatus::Done { .. }))
        .count();
    let stats = server.stats();
    let per_file = server.jobs_per_file();
    let marked: HashSet<String> = outcomes
        .iter()
        .filter(|o| o.possible_duplicate)
        .map(|o| {
            Path::new(&o.input)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let duplicated: Vec<&String> = per_file
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(f, _)| f)
        .collect();
    eprintln!(
        "fault mix: {ok}/{} results, {} jobs ({} hidden), {} faults, {} files with >1 job, {} marked",
        files.len(),
        stats.jobs_created,
        stats.hidden_jobs,
        stats.faults_injected,
        duplicated.len(),
        marked.len()
    );
    assert_eq!(ok, files.len(), "{outcomes:#?}");
    assert!(stats.faults_injected > 0);
    // Extra jobs come only from answers lost after the job was created.
    assert_eq!(
        stats.jobs_created as usize,
        files.len() + stats.hidden_jobs as usize
    );
    // Every file with more than one job is marked.
    for f in &duplicated {
        assert!(marked.contains(*f), "{f} has two jobs but is not marked");
    }
    // One result per file, under its own name, and the journal agrees.
    let j = Journal::open(&journal::default_path(&results), Access::ReadOnly).unwrap();
    let entries = j.entries().unwrap();
    assert_eq!(entries.len(), files.len());
    assert!(entries
        .iter()
        .all(|e| e.state == State::Done && e.job_id.is_some()));
    for o in &outcomes {
        assert!(o.result.as_ref().unwrap().is_file());
    }
}

#[tokio::test]
async fn result_names_never_collide_and_stay_put() {
    let server = mock(MockConfig {
        processing_polls: 0,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(inp.join("a")).unwrap();
    std::fs::create_dir_all(inp.join("b")).unwrap();
    std::fs::write(inp.join("scan.pdf"), pdf(2)).unwrap();
    let mut files = vec![inp.join("scan.pdf")];
    files.extend(distinct_pngs(
        &inp,
        &["scan.png", "a/photo.png", "b/photo.png", "solo.png"],
    ));
    // The same bytes twice: one job, one result.
    std::fs::copy(inp.join("solo.png"), inp.join("copy.png")).unwrap();
    files.push(inp.join("copy.png"));
    let results = dir.path().join("res");
    let client = client(&server.url());
    let outcomes = upload_files(&client, inputs(&files), &batch(&results), |_| {})
        .await
        .unwrap();
    let names: Vec<String> = outcomes
        .iter()
        .map(|o| {
            o.result
                .as_ref()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "scan.pdf.json",
            "scan.png.json",
            "photo.png.json",
            "b-photo.png.json",
            "solo.json",
            "solo.json"
        ]
    );
    assert!(
        matches!(&outcomes[5].status, UploadStatus::SameAs { input } if input.ends_with("solo.png"))
    );
    assert_eq!(server.stats().jobs_created, 5);
    // Each result is the one of its own file.
    for (o, expected) in
        outcomes
            .iter()
            .zip(["scan.pdf", "scan.png", "photo.png", "photo.png", "solo.png"])
    {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(o.result.as_ref().unwrap()).unwrap()).unwrap();
        assert_eq!(v["inference"]["file"]["name"], expected);
    }

    // A rerun in another order, with a new file: same names, nothing sent again.
    let mut again = files.clone();
    again.reverse();
    std::fs::create_dir_all(inp.join("c")).unwrap();
    std::fs::write(inp.join("c/photo.png"), png(50, 9)).unwrap();
    again.push(inp.join("c/photo.png"));
    let outcomes2 = upload_files(&client, inputs(&again), &batch(&results), |_| {})
        .await
        .unwrap();
    for o in &outcomes {
        let o2 = outcomes2.iter().find(|x| x.input == o.input).unwrap();
        assert_eq!(o2.result, o.result, "{}", o.input);
    }
    let new = outcomes2
        .iter()
        .find(|o| o.input.ends_with("c/photo.png"))
        .unwrap();
    assert!(matches!(new.status, UploadStatus::Done { .. }));
    assert_eq!(
        new.result.as_ref().unwrap().file_name().unwrap(),
        "c-photo.png.json"
    );
    assert_eq!(server.stats().jobs_created, 6, "only the new file was sent");
}

#[tokio::test]
async fn no_wait_then_rerun_or_collect_creates_no_new_job() {
    let server = mock(MockConfig {
        processing_polls: 1,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let files = distinct_pngs(&dir.path().join("in"), &["a.png", "b.png", "c.png"]);
    let results = dir.path().join("res");
    let client = client(&server.url());
    let no_wait = UploadBatch {
        wait: false,
        ..batch(&results)
    };
    let enqueued = upload_files(&client, inputs(&files), &no_wait, |_| {})
        .await
        .unwrap();
    assert!(enqueued
        .iter()
        .all(|o| matches!(o.status, UploadStatus::Enqueued { .. })));
    assert_eq!(server.stats().jobs_created, 3);
    // The same command again: the jobs exist, nothing is enqueued twice.
    upload_files(&client, inputs(&files), &no_wait, |_| {})
        .await
        .unwrap();
    assert_eq!(server.stats().jobs_created, 3);

    // A plain upload of the first file polls its job.
    let one = upload_files(&client, inputs(&files[..1]), &batch(&results), |_| {})
        .await
        .unwrap();
    assert!(matches!(one[0].status, UploadStatus::Done { .. }));
    // collect finishes the others, and reports the first as already there.
    let collected = collect(
        &client,
        &results,
        &journal::default_path(&results),
        fast_polling(),
        4,
        |_| {},
    )
    .await
    .unwrap();
    let done = collected
        .iter()
        .filter(|o| matches!(o.status, UploadStatus::Done { .. }))
        .count();
    let skipped = collected
        .iter()
        .filter(|o| matches!(o.status, UploadStatus::Skipped { .. }))
        .count();
    assert_eq!((done, skipped), (2, 1), "{collected:#?}");
    for stem in ["a", "b", "c"] {
        assert!(results.join(format!("{stem}.json")).is_file());
    }
    assert_eq!(server.stats().jobs_created, 3, "collect never enqueues");
}

#[tokio::test]
async fn at_most_once_leaves_unknown_outcomes_marked_for_the_rerun() {
    // The first enqueue gets a 500: for the client its outcome is unknown (a job may exist).
    let server = mock(MockConfig {
        processing_polls: 0,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let files = distinct_pngs(&dir.path().join("in"), &["a.png"]);
    let results = dir.path().join("res");
    let client = client(&server.url());
    server.set_faults(vec![Fault::next(Route::Enqueue, FaultKind::ServerError, 1)]);
    let once = UploadBatch {
        enqueue_retries: 0,
        ..batch(&results)
    };
    let first = upload_files(&client, inputs(&files), &once, |_| {})
        .await
        .unwrap();
    assert!(matches!(
        first[0].status,
        UploadStatus::Failed { job_id: None, .. }
    ));
    assert!(!first[0].possible_duplicate);
    assert_eq!(first[0].attempts, 1);
    let j = Journal::open(&journal::default_path(&results), Access::ReadOnly).unwrap();
    let e = &j.entries().unwrap()[0];
    assert!(e.unsure && e.state == State::Failed, "{e:?}");
    drop(j);
    // The rerun sends it again (it has no job ID) and says it may be a duplicate.
    let second = upload_files(&client, inputs(&files), &once, |_| {})
        .await
        .unwrap();
    assert!(matches!(second[0].status, UploadStatus::Done { .. }));
    assert!(second[0].possible_duplicate);
    assert_eq!(second[0].attempts, 2);
}

#[tokio::test]
async fn refused_enqueues_are_sent_again_without_a_duplicate_mark() {
    let server = MockServer::start(MockConfig {
        api_key: Some("md_the_right_key".into()),
        processing_polls: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = distinct_pngs(&dir.path().join("in"), &["a.png"]);
    let results = dir.path().join("res");
    let wrong = client(&server.url());
    let first = upload_files(&wrong, inputs(&files), &batch(&results), |_| {})
        .await
        .unwrap();
    assert!(
        matches!(&first[0].status, UploadStatus::Failed { error, .. } if error.kind() == mindee_prep::ErrorKind::Unauthorized)
    );
    let j = Journal::open(&journal::default_path(&results), Access::ReadOnly).unwrap();
    assert_eq!(j.entries().unwrap()[0].state, State::Refused);
    drop(j);
    let right = client_with_key(&server.url(), "md_the_right_key");
    let second = upload_files(&right, inputs(&files), &batch(&results), |_| {})
        .await
        .unwrap();
    assert!(matches!(second[0].status, UploadStatus::Done { .. }));
    assert!(!second[0].possible_duplicate);
    assert_eq!(server.stats().jobs_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_keeps_every_sliding_window_under_the_limits() {
    // The API's limits are per minute; the same limiter over a 2 s window keeps the test short.
    let limits = RateLimits {
        enqueues: 4,
        polls: 6,
        window: Duration::from_secs(2),
    };
    let server = mock(MockConfig {
        processing_polls: 1,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..8).map(|i| format!("p{i}.png")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let files = distinct_pngs(&dir.path().join("in"), &names);
    let results = dir.path().join("res");
    let client = patient_client(&server.url(), limits);
    let paced = UploadBatch {
        concurrency: 8,
        ..batch(&results)
    };
    let outcomes = upload_files(&client, inputs(&files), &paced, |_| {})
        .await
        .unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o.status, UploadStatus::Done { .. })));
    let log = server.request_log();
    let times = |routes: &[Route]| -> Vec<f64> {
        log.iter()
            .filter(|r| routes.contains(&r.route))
            .map(|r| r.at.as_secs_f64())
            .collect()
    };
    let enq = times(&[Route::Enqueue]);
    let gets = times(&[Route::Job, Route::Result]);
    let (max_enq, max_get) = (max_in_window(&enq, 2.0), max_in_window(&gets, 2.0));
    eprintln!(
        "pacing: {} enqueues, max {max_enq} per 2 s window (limit 4); {} GETs, max {max_get} (limit 6)",
        enq.len(),
        gets.len()
    );
    assert_eq!(enq.len(), 8);
    assert!(gets.len() >= 16);
    assert!(max_enq <= 4 && max_get <= 6);
    // And it is pacing, not luck: unpaced, all 8 enqueues would land in the first window.
    assert_eq!(max_enq, 4);
}

#[tokio::test]
async fn damaged_or_busy_journal_sends_nothing() {
    let server = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = distinct_pngs(&dir.path().join("in"), &["a.png"]);
    let results = dir.path().join("res");
    let path = journal::default_path(&results);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A journal cut short: the header survives, the pages do not.
    {
        let j = Journal::open(&path, Access::Run).unwrap();
        drop(j);
        let ok = upload_files(
            &client(&server.url()),
            inputs(&files),
            &batch(&results),
            |_| {},
        )
        .await
        .unwrap();
        assert!(matches!(ok[0].status, UploadStatus::Done { .. }));
    }
    let sent_before = server.enqueues().len();
    let bytes = std::fs::read(&path).unwrap();
    let mut damaged = bytes[..100].to_vec();
    damaged.extend(std::iter::repeat_n(0xA5u8, bytes.len() - 100));
    std::fs::write(&path, &damaged).unwrap();
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let err = upload_files(
        &client(&server.url()),
        inputs(&files),
        &UploadBatch {
            force: true,
            ..batch(&results)
        },
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "left as it was");
    assert_eq!(server.enqueues().len(), sent_before, "nothing sent");

    // Busy: another run holds the journal.
    let other = dir.path().join("other");
    let holder = Journal::open(&journal::default_path(&other), Access::Run).unwrap();
    let err = upload_files(
        &client(&server.url()),
        inputs(&files),
        &batch(&other),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("another mindee-prep run"), "{err}");
    drop(holder);
    assert_eq!(server.enqueues().len(), sent_before);
}

#[tokio::test]
async fn url_inputs_are_sent_as_urls_and_journaled() {
    let server = mock(MockConfig {
        processing_polls: 0,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("res");
    let url = "https://files.example.com/in/invoice.pdf?sig=abc";
    let ins = vec![Input::parse(url).unwrap()];
    let client = client(&server.url());
    let out = upload_files(&client, ins.clone(), &batch(&results), |_| {})
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, UploadStatus::Done { .. }),
        "{out:?}"
    );
    assert_eq!(
        out[0].result.as_ref().unwrap().file_name().unwrap(),
        "invoice.json"
    );
    let sent = server.enqueues();
    assert!(sent[0].fields.contains(&("url".into(), url.into())));
    assert!(sent[0].file_name.is_none());
    upload_files(&client, ins, &batch(&results), |_| {})
        .await
        .unwrap();
    assert_eq!(server.stats().jobs_created, 1);
    assert!(Input::parse("http://files.example.com/a.pdf").is_err());
}
