//! Eight uploads at once through injected faults: every file ends with exactly one result or
//! one clear error, and results never get mixed up.

mod upload_common;

use mindee_prep::upload::mock::{Fault, FaultKind, MockConfig, MockServer, Route};
use mindee_prep::upload::{EnqueueParams, Source};
use mindee_prep::ErrorKind;
use upload_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_uploads_with_faults() {
    let server = MockServer::start(MockConfig {
        api_key: Some(KEY.into()),
        processing_polls: 1,
        failing_model_ids: vec![FAILING_MODEL.into()],
        // Each retried route sees at most four faults in all, so any one request still
        // succeeds within its five attempts; the third enqueue is dropped (never retried).
        faults: vec![
            Fault {
                skip: 2,
                ..Fault::next(Route::Enqueue, FaultKind::Drop, 1)
            },
            Fault::next(
                Route::Enqueue,
                FaultKind::TooManyRequests(Some("0".into())),
                2,
            ),
            Fault::next(Route::Job, FaultKind::ServerError, 2),
            Fault::next(Route::Job, FaultKind::Drop, 2),
            Fault::next(Route::Result, FaultKind::Unavailable, 2),
            Fault::next(Route::Result, FaultKind::Drop, 2),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let client = client(&server.url());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8u32 {
        let client = client.clone();
        tasks.spawn(async move {
            let model = if i % 4 == 3 { FAILING_MODEL } else { MODEL };
            let source = Source::bytes(png(16 + i, 16), &format!("file{i}.png")).unwrap();
            let out = client
                .enqueue_and_wait(&source, &EnqueueParams::new(model), &fast_polling())
                .await;
            (i, model == FAILING_MODEL, out)
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        outcomes.push(joined.expect("no task panicked"));
    }
    outcomes.sort_by_key(|o| o.0);
    assert_eq!(outcomes.len(), 8);
    let (mut ok, mut failed_jobs, mut network) = (0, 0, 0);
    let mut ids = std::collections::HashSet::new();
    for (i, failing, out) in &outcomes {
        match out {
            Ok(r) => {
                assert!(!failing, "file{i}: a failing model returned a result");
                assert_eq!(
                    r.inference.file.name,
                    format!("file{i}.png"),
                    "results mixed up"
                );
                assert!(ids.insert(r.inference.id.clone()), "one job per file");
                ok += 1;
            }
            Err(e) if e.kind() == ErrorKind::JobFailed => {
                assert!(failing, "file{i}: unexpected job failure: {e}");
                failed_jobs += 1;
            }
            Err(e) => {
                // Only the dropped enqueue may fail, and it says so clearly.
                assert_eq!(e.kind(), ErrorKind::Network, "file{i}: {e}");
                assert!(e.to_string().contains("/enqueue"), "{e}");
                network += 1;
            }
        }
    }
    assert_eq!(network, 1, "exactly the dropped enqueue fails");
    assert_eq!(ok + failed_jobs, 7);
    let stats = server.stats();
    assert_eq!(
        stats.jobs_created, 7,
        "no duplicate job from a retried POST"
    );
    assert_eq!(stats.results_served as usize, ok);
    assert_eq!(stats.faults_injected, 11);
}
