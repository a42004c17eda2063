//! The webhook flow end to end on loopback: `upload` with a webhook ID, the simulator
//! delivering signed results, and the receiver writing them through the journal.

mod upload_common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mindee_prep::upload::batch::{upload_files, Input, UploadBatch, UploadStatus};
use mindee_prep::upload::journal::{self, Access, FileKey, Journal, State};
use mindee_prep::upload::mock::{MockConfig, MockServer, MockWebhook};
use mindee_prep::upload::receiver::{ReceiverConfig, TlsFiles, WebhookReceiver};
use mindee_prep::upload::webhook::{self, WebhookSecret};
use mindee_prep::upload::EnqueueParams;
use upload_common::*;

const SECRET: &str = "whsec_TEST_s3cr3t_4e1d_MUST_NEVER_LEAK";
const HOOK: &str = "b0b0b0b0-1111-4222-8333-444455556666";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

async fn receiver(results: &Path, tweak: impl FnOnce(&mut ReceiverConfig)) -> WebhookReceiver {
    let mut config = ReceiverConfig::new(results, secret());
    tweak(&mut config);
    WebhookReceiver::bind("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("receiver starts")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// A plain-HTTP client (reqwest is built without a default TLS provider).
fn http() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

async fn post(url: &str, body: &[u8], signature: Option<&str>) -> u16 {
    let mut req = http().post(url).body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("X-Signature", s);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_with_webhook_and_receiver_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("res");
    let rx = receiver(&results, |_| {}).await;
    let server = MockServer::start(MockConfig {
        api_key: Some(KEY.into()),
        webhooks: vec![MockWebhook {
            id: HOOK.into(),
            url: rx.url(),
            secret: SECRET.into(),
        }],
        // Every payload twice: the receiver must be idempotent.
        webhook_deliveries: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let files = distinct_pngs(
        &dir.path().join("in"),
        &["a.png", "b.png", "c.png", "d.png"],
    );
    let batch = UploadBatch {
        wait: false,
        ..UploadBatch::new(EnqueueParams::new(MODEL).webhook_id(HOOK), &results)
    };
    let outcomes = upload_files(
        &client(&server.url()),
        files.iter().cloned().map(Input::Path).collect(),
        &batch,
        |_| {},
    )
    .await
    .unwrap();
    assert!(outcomes.iter().all(|o| matches!(
        o.status,
        UploadStatus::Enqueued { .. } | UploadStatus::Done { .. }
    )));

    // Wait for the deliveries (the simulator sends them at once).
    let started = Instant::now();
    let path = journal::default_path(&results);
    loop {
        let done = Journal::open(&path, Access::ReadOnly)
            .unwrap()
            .entries()
            .unwrap()
            .iter()
            .filter(|e| e.state == State::Done)
            .count();
        if done == files.len() && rx.stats().accepted >= 8 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "deliveries missing: {:?}",
            rx.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        files_in(&results),
        ["a.json", "b.json", "c.json", "d.json"],
        "every result under its own name, none under a job ID"
    );
    for stem in ["a", "b", "c", "d"] {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(results.join(format!("{stem}.json"))).unwrap())
                .unwrap();
        assert_eq!(v["inference"]["file"]["name"], format!("{stem}.png"));
    }
    assert_eq!(server.stats().jobs_created, 4);
    assert_eq!(server.stats().job_polls, 0, "the webhook flow never polls");
    let stats = rx.stats();
    assert_eq!((stats.accepted, stats.bad_signature), (8, 0));

    // The secret is nowhere: not in the journal, not in the results, not in Debug.
    let mut texts = vec![
        format!("{rx:?}"),
        format!("{:?}", ReceiverConfig::new("r", secret())),
    ];
    for f in std::fs::read_dir(results.join(".mindee-prep")).unwrap() {
        texts
            .push(String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()).into_owned());
    }
    for f in files_in(&results) {
        texts.push(std::fs::read_to_string(results.join(f)).unwrap());
    }
    for t in &texts {
        assert!(
            !t.contains(SECRET) && !t.contains("4e1d_MUST"),
            "secret leaked: {t:.200}"
        );
        assert!(!t.contains(KEY), "key leaked");
    }
    rx.shutdown().await;
}

/// A result body for `job_id`, as the API sends it (compact JSON).
fn result_body(job_id: &str, name: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"inference": {
        "id": job_id, "job": {"id": job_id}, "model": {"id": MODEL},
        "file": {"name": name, "alias": null, "page_count": 1, "mime_type": "image/png"},
        "result": {"fields": {"total": {"value": 1, "locations": [], "confidence": null}}, "raw_text": null, "rag": null},
    }}))
    .unwrap()
}

#[tokio::test]
async fn signatures_are_checked_before_anything_and_redeliveries_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("res");
    let rx = receiver(&results, |c| c.max_body_bytes = 4096).await;
    let url = rx.url();
    // A journaled job, as upload leaves it.
    let jpath = journal::default_path(&results);
    let mut j = Journal::open(&jpath, Access::Run).unwrap();
    let e = j
        .entry_for(
            &FileKey::new(b"x", &EnqueueParams::new(MODEL), None),
            "in/x.png",
            &["x".into()],
            &results,
        )
        .unwrap();
    j.begin_attempt(e.id).unwrap();
    j.set_enqueued(e.id, "job-known-1").unwrap();

    let body = result_body("job-known-1", "x.png");
    let good = webhook::sign(SECRET, &body);
    // Forged (another secret), missing, malformed, tampered: 401, nothing written.
    assert_eq!(
        post(&url, &body, Some(&webhook::sign("guess", &body))).await,
        401
    );
    assert_eq!(post(&url, &body, None).await, 401);
    assert_eq!(post(&url, &body, Some("not-hex")).await, 401);
    let mut tampered = body.clone();
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    assert_eq!(post(&url, &tampered, Some(&good)).await, 401);
    // Not even parsed: an unsigned non-JSON body is a 401 too, not a 400.
    assert_eq!(post(&url, b"{not json", None).await, 401);
    assert!(files_in(&results).is_empty());
    assert_eq!(j.get(e.id).unwrap().state, State::Enqueued);
    assert_eq!(rx.stats().bad_signature, 5);

    // The real thing: written under the row's name; again: same bytes, still one file.
    assert_eq!(post(&url, &body, Some(&good)).await, 200);
    let first = std::fs::read(results.join("x.json")).unwrap();
    assert_eq!(post(&url, &body, Some(&good.to_uppercase())).await, 200);
    assert_eq!(std::fs::read(results.join("x.json")).unwrap(), first);
    assert_eq!(files_in(&results), ["x.json"]);
    assert_eq!(j.get(e.id).unwrap().state, State::Done);

    // An unknown job goes under its ID, and is listed as unmatched.
    let other = result_body("job-unknown-2", "y.png");
    assert_eq!(
        post(&url, &other, Some(&webhook::sign(SECRET, &other))).await,
        200
    );
    assert_eq!(files_in(&results), ["job-unknown-2.json", "x.json"]);
    assert_eq!(j.unmatched_deliveries().unwrap()[0].job_id, "job-unknown-2");

    // A failure notice marks the row failed with the API's error.
    let e2 = j
        .entry_for(
            &FileKey::new(b"z", &EnqueueParams::new(MODEL), None),
            "in/z.png",
            &["z".into()],
            &results,
        )
        .unwrap();
    j.set_enqueued(e2.id, "job-known-3").unwrap();
    let failed = serde_json::to_vec(&serde_json::json!({
        "inference_id": "job-known-3", "model_id": MODEL, "file_name": "z.png", "file_alias": null,
        "error": {"status": 500, "detail": "The inference failed.", "title": "Inference failed", "code": "500-012", "errors": []},
        "created_at": "2025-07-03T14:27:58.974451"
    }))
    .unwrap();
    assert_eq!(
        post(&url, &failed, Some(&webhook::sign(SECRET, &failed))).await,
        200
    );
    let row = j.get(e2.id).unwrap();
    assert_eq!(row.state, State::Failed);
    assert_eq!(row.error_kind.as_deref(), Some("job_failed"));
    assert!(row.error.unwrap().contains("500-012"));

    // Signed but not a payload: 400. Too large: 413 (declared or not).
    let junk = br#"{"hello":"world"}"#;
    assert_eq!(
        post(&url, junk, Some(&webhook::sign(SECRET, junk))).await,
        400
    );
    let big = vec![b' '; 5000];
    assert_eq!(
        post(&url, &big, Some(&webhook::sign(SECRET, &big))).await,
        413
    );
    assert_eq!(files_in(&results).len(), 2);
    // Only POST on /.
    let get = http().get(&url).send().await.unwrap().status().as_u16();
    assert_eq!(get, 405);
    assert_eq!(post(&format!("{url}other"), &body, Some(&good)).await, 404);
}

#[tokio::test]
async fn tls_from_pem_files() {
    let tls_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("res");
    let rx = receiver(&results, |c| {
        c.tls = Some(TlsFiles {
            cert: tls_dir.join("cert.pem"),
            key: tls_dir.join("key.pem"),
        })
    })
    .await;
    assert!(rx.url().starts_with("https://"));
    // A client that trusts the test CA.
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(tls_dir.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let url = rx.url().replace("127.0.0.1", "localhost");
    let body = result_body("job-tls-1", "t.png");
    let status = https
        .post(&url)
        .header("X-Signature", webhook::sign(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    assert!(results.join("job-tls-1.json").is_file());
    // Plain HTTP to the TLS port gets no answer.
    let plain = rx.url().replace("https://", "http://");
    assert!(http().post(plain).body(body).send().await.is_err());

    // Bad files: a clear error before listening.
    let err = WebhookReceiver::bind(
        "127.0.0.1:0".parse().unwrap(),
        ReceiverConfig {
            tls: Some(TlsFiles {
                cert: tls_dir.join("key.pem"),
                key: tls_dir.join("key.pem"),
            }),
            ..ReceiverConfig::new(dir.path().join("r2"), secret())
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}
