//! The client against the simulator on loopback: polling flow, errors, retries, webhooks.

mod upload_common;

use std::time::{Duration, Instant, SystemTime};

use mindee_prep::upload::mock::{Fault, FaultKind, MockConfig, MockServer, MockWebhook, Route};
use mindee_prep::upload::model::{InferenceResult, JobStatus};
use mindee_prep::upload::webhook;
use mindee_prep::upload::{EnqueueParams, Product, Source};
use mindee_prep::{Error, ErrorKind, PrepareOptions};
use upload_common::*;

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(MockConfig {
        api_key: Some(KEY.into()),
        ..config
    })
    .await
    .expect("simulator starts")
}

fn png_source() -> Source {
    Source::bytes(png(40, 30), "photo.png").expect("valid PNG")
}

#[tokio::test]
async fn polling_flow_end_to_end_from_a_file_on_disk() {
    let server = mock(MockConfig {
        processing_polls: 2,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, pdf(3)).unwrap();
    let prepared = mindee_prep::prepare_path(&path, &PrepareOptions::default()).unwrap();
    let source = Source::prepared(prepared, &path.to_string_lossy());
    let params = EnqueueParams::new(MODEL).alias("scan-1").raw_text(true);

    let started = Instant::now();
    let result = client(&server.url())
        .enqueue_and_wait(&source, &params, &fast_polling())
        .await
        .expect("result");
    // Two Processing answers, then the 302: three polls, one second apart at least.
    assert!(started.elapsed() >= Duration::from_secs(3));
    let stats = server.stats();
    assert_eq!(
        (stats.jobs_created, stats.job_polls, stats.results_served),
        (1, 3, 1)
    );

    let inf = &result.inference;
    assert_eq!(inf.file.name, "scan.pdf");
    assert_eq!(inf.file.alias.as_deref(), Some("scan-1"));
    assert_eq!(inf.file.page_count, 3);
    assert_eq!(inf.file.mime_type, "application/pdf");
    assert_eq!(inf.id, inf.job.id);
    let ex = inf.result.as_extraction().expect("extraction");
    assert_eq!(
        ex.fields.get("total_tax").unwrap().value(),
        Some(&serde_json::json!(0))
    );
    assert_eq!(ex.raw_text().unwrap().pages.len(), 3);
    assert!(inf.active_options.as_ref().unwrap().raw_text);
    assert_eq!(result.raw()["inference"]["id"], serde_json::json!(inf.id));

    // What went over the wire: multipart, only the options that were set.
    let sent = server.enqueues();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].content_type, "multipart/form-data");
    assert_eq!(sent[0].file_name.as_deref(), Some("scan.pdf"));
    let names: Vec<&str> = sent[0].fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["model_id", "alias", "raw_text"]);
    server.shutdown().await;
}

#[tokio::test]
async fn job_and_result_by_id_and_404_before_ready() {
    let server = mock(MockConfig {
        processing_polls: 1,
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    let job = c
        .enqueue(
            &png_source(),
            &EnqueueParams::new(MODEL).product(Product::Ocr),
        )
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Processing);
    assert_eq!(job.filename.as_deref(), Some("photo.png"));
    let err = c.get_result(Product::Ocr, &job.id).await.unwrap_err();
    assert!(matches!(&err, Error::Api(p) if p.status == 404), "{err}");
    assert_eq!(
        c.get_job(&job.id).await.unwrap().status,
        JobStatus::Processing
    );
    let done = c.get_job(&job.id).await.unwrap();
    assert_eq!(done.status, JobStatus::Processed);
    assert!(done
        .result_url
        .as_deref()
        .unwrap()
        .ends_with(&format!("/v2/products/ocr/results/{}", job.id)));
    let r = c.get_result(Product::Ocr, &job.id).await.unwrap();
    assert!(matches!(&r.inference.result, InferenceResult::Ocr(o) if o.pages.len() == 1));
    // The simulator refuses the same result on another product's route.
    assert!(c.get_result(Product::Split, &job.id).await.is_err());
}

#[tokio::test]
async fn wrong_key_is_unauthorized_without_the_key() {
    let server = mock(MockConfig::default()).await;
    let wrong = "md_WRONG_key_5b1e_DISTINCTIVE";
    let err = client_with_key(&server.url(), wrong)
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let text = format!("{err} {err:?}");
    assert!(text.contains("MINDEE_V2_API_KEY"), "{text}");
    assert!(text.contains("The provided API key is invalid."), "{text}");
    assert!(!text.contains(wrong) && !text.contains(KEY), "{text}");
    assert_eq!(server.stats().unauthorized, 1);
    assert_eq!(server.stats().jobs_created, 0);
}

#[tokio::test]
async fn missing_key_is_a_configuration_error_before_any_request() {
    let err = mindee_prep::upload::Client::builder()
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("MINDEE_V2_API_KEY"), "{err}");
    assert!(mindee_prep::upload::ApiKey::new("  ").is_err());
}

#[tokio::test]
async fn simulator_answers_401_008_without_credentials() {
    let server = mock(MockConfig::default()).await;
    let resp = raw_request(&server.url(), "GET", "/v2/jobs/abc", &[], b"").await;
    assert_eq!(resp.0, 401);
    assert_eq!(resp.1["code"], "401-008");
}

/// A bare HTTP/1.1 request over TCP, with exactly the headers given.
async fn raw_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend(body);
    s.write_all(&bytes).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    let status: u16 = text[9..12].parse().unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn malformed_model_id_is_422_with_pointer() {
    let server = mock(MockConfig::default()).await;
    let err = client(&server.url())
        .enqueue(&png_source(), &EnqueueParams::new("not-a-uuid"))
        .await
        .unwrap_err();
    let Error::Api(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p.status, 422);
    assert_eq!(p.code.as_deref(), Some("422-001"));
    assert_eq!(p.pointers[0].0, "#/model_id");
    assert!(err.to_string().contains("#/model_id"), "{err}");
    // 4xx answers to a POST are final: sent once.
    assert_eq!(server.enqueues().len(), 1);
}

#[tokio::test]
async fn rate_limit_then_success_honours_retry_after() {
    let server = mock(MockConfig {
        faults: vec![Fault::next(
            Route::Enqueue,
            FaultKind::TooManyRequests(Some("1".into())),
            1,
        )],
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let job = client(&server.url())
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .expect("retried after 429");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 not honoured"
    );
    assert_eq!(job.status, JobStatus::Processing);
    let stats = server.stats();
    assert_eq!((stats.faults_injected, stats.jobs_created), (1, 1));
}

#[tokio::test]
async fn retry_after_as_http_date() {
    let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let server = mock(MockConfig {
        faults: vec![Fault::next(
            Route::Job,
            FaultKind::TooManyRequests(Some(when)),
            1,
        )],
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    let job = c
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap();
    let started = Instant::now();
    c.get_job(&job.id).await.expect("retried after 429");
    // The date has one-second resolution: at least ~1 s must have been waited.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn persistent_rate_limit_is_rate_limited_after_bounded_attempts() {
    let server = mock(MockConfig {
        faults: vec![Fault::next(
            Route::Enqueue,
            FaultKind::TooManyRequests(None),
            100,
        )],
        ..Default::default()
    })
    .await;
    let err = client(&server.url())
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { attempts: 5 }), "{err:?}");
    assert_eq!(server.stats().faults_injected, 5);
}

#[tokio::test]
async fn server_error_then_success_on_get() {
    let server = mock(MockConfig {
        processing_polls: 0,
        faults: vec![
            Fault::next(Route::Job, FaultKind::ServerError, 2),
            Fault::next(Route::Result, FaultKind::Unavailable, 1),
        ],
        ..Default::default()
    })
    .await;
    let r = client(&server.url())
        .enqueue_and_wait(&png_source(), &EnqueueParams::new(MODEL), &fast_polling())
        .await
        .expect("GETs retried");
    assert_eq!(r.inference.file.name, "photo.png");
    assert_eq!(server.stats().faults_injected, 3);
}

#[tokio::test]
async fn enqueue_is_not_retried_on_500_but_is_on_503() {
    let server = mock(MockConfig {
        faults: vec![Fault::next(Route::Enqueue, FaultKind::ServerError, 1)],
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    let err = c
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(p) if p.status == 500 && p.code.as_deref() == Some("500-001")),
        "{err:?}"
    );
    assert_eq!(server.stats().faults_injected, 1);

    server.set_faults(vec![Fault::next(Route::Enqueue, FaultKind::Unavailable, 2)]);
    c.enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .expect("503 retried");
    assert_eq!(server.stats().faults_injected, 3);
}

#[tokio::test]
async fn dropped_connection_on_get_is_retried() {
    let server = mock(MockConfig {
        processing_polls: 0,
        faults: vec![
            Fault::next(Route::Job, FaultKind::Drop, 1),
            Fault::next(Route::Result, FaultKind::Drop, 2),
        ],
        ..Default::default()
    })
    .await;
    let r = client(&server.url())
        .enqueue_and_wait(&png_source(), &EnqueueParams::new(MODEL), &fast_polling())
        .await
        .expect("dropped GETs retried");
    assert!(r.inference.result.as_extraction().is_some());
    assert_eq!(server.stats().faults_injected, 3);
}

#[tokio::test]
async fn dropped_connection_on_enqueue_is_not_retried() {
    let server = mock(MockConfig {
        faults: vec![Fault::next(Route::Enqueue, FaultKind::Drop, 1)],
        ..Default::default()
    })
    .await;
    let err = client(&server.url())
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    // The request reached the server: it might have created a job, so it is not repeated.
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert_eq!(server.stats().faults_injected, 1);
    assert_eq!(server.stats().jobs_created, 0);
}

#[tokio::test]
async fn connection_refused_is_a_network_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let started = Instant::now();
    let err = client(&url).get_job("abc").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert!(err.to_string().contains("after 5 attempts"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn non_json_error_keeps_status_and_excerpt() {
    let server = mock(MockConfig {
        faults: vec![Fault::next(Route::Enqueue, FaultKind::BadGatewayHtml, 1)],
        ..Default::default()
    })
    .await;
    let err = client(&server.url())
        .enqueue(&png_source(), &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    let Error::Api(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p.status, 502);
    assert!(
        p.detail.as_deref().unwrap().contains("502 Bad Gateway"),
        "{p:?}"
    );
}

#[tokio::test]
async fn failed_job_is_job_failed_with_problem_details() {
    let server = mock(MockConfig {
        processing_polls: 0,
        failing_model_ids: vec![FAILING_MODEL.into()],
        ..Default::default()
    })
    .await;
    let err = client(&server.url())
        .enqueue_and_wait(
            &png_source(),
            &EnqueueParams::new(FAILING_MODEL),
            &fast_polling(),
        )
        .await
        .unwrap_err();
    let Error::JobFailed(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p.status, 500);
    assert_eq!(p.code.as_deref(), Some("500-012"));
    assert!(p.detail.as_deref().unwrap().contains("simulated failure"));
    assert_eq!(server.stats().results_served, 0);
}

#[tokio::test]
async fn polling_gives_up_after_max_polls() {
    let server = mock(MockConfig {
        processing_polls: 100,
        ..Default::default()
    })
    .await;
    let polling = mindee_prep::upload::PollingOptions {
        max_polls: 2,
        ..fast_polling()
    };
    let err = client(&server.url())
        .enqueue_and_wait(&png_source(), &EnqueueParams::new(MODEL), &polling)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(server.stats().job_polls, 2);
}

#[tokio::test]
async fn polling_under_one_second_is_refused_before_sending() {
    let server = mock(MockConfig::default()).await;
    let polling = mindee_prep::upload::PollingOptions {
        interval: Duration::from_millis(500),
        ..Default::default()
    };
    let err = client(&server.url())
        .enqueue_and_wait(&png_source(), &EnqueueParams::new(MODEL), &polling)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(server.enqueues().len(), 0);
}

#[tokio::test]
async fn dropping_the_future_stops_polling() {
    let server = mock(MockConfig {
        processing_polls: 1000,
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    let src = png_source();
    let params = EnqueueParams::new(MODEL);
    let polling = fast_polling();
    let fut = c.enqueue_and_wait(&src, &params, &polling);
    assert!(tokio::time::timeout(Duration::from_millis(2500), fut)
        .await
        .is_err());
    let polls = server.stats().job_polls;
    assert!(polls >= 1, "polling had started");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        server.stats().job_polls,
        polls,
        "no poll after the future was dropped"
    );
}

#[tokio::test]
async fn url_sources_and_legacy_routes() {
    let server = mock(MockConfig {
        processing_polls: 0,
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    let params = EnqueueParams::new(MODEL).product(Product::Classification);
    let job = c
        .enqueue(
            &Source::url("https://files.example.com/a/invoice.pdf?sig=1").unwrap(),
            &params,
        )
        .await
        .unwrap();
    assert_eq!(job.filename.as_deref(), Some("invoice.pdf"));
    let sent = &server.enqueues()[0];
    assert!(sent.fields.contains(&(
        "url".into(),
        "https://files.example.com/a/invoice.pdf?sig=1".into()
    )));
    assert!(sent.file_name.is_none());
    // Python posts extraction to the legacy route with a urlencoded body; results on /v2/inferences.
    let form =
        format!("model_id={MODEL}&url=https%3A%2F%2Fx.example%2Fr.jpg&webhook_ids=&rag=false");
    let http = raw_request(
        &server.url(),
        "POST",
        "/v2/inferences/enqueue",
        &[
            ("Authorization", KEY),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )
    .await;
    assert_eq!(http.0, 202, "{}", http.1);
    let id = http.1["job"]["id"].as_str().unwrap().to_string();
    let done = c.get_job(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Processed);
    let legacy = raw_request(
        &server.url(),
        "GET",
        &format!("/v2/inferences/{id}"),
        &[("Authorization", KEY)],
        b"",
    )
    .await;
    assert_eq!(legacy.0, 200);
    assert_eq!(legacy.1["inference"]["file"]["name"], "r.jpg");
    assert_eq!(legacy.1["inference"]["active_options"]["rag"], false);
    let r = c.get_result(Product::Extraction, &id).await.unwrap();
    assert_eq!(r.inference.file.name, "r.jpg");
}

#[tokio::test]
async fn refused_files_never_reach_the_server() {
    assert_eq!(
        Source::bytes(Vec::new(), "empty.png").unwrap_err().kind(),
        ErrorKind::EmptyFile
    );
    assert_eq!(
        Source::bytes(b"GIF89a\x01\x00\x01\x00".to_vec(), "anim.gif")
            .unwrap_err()
            .kind(),
        ErrorKind::UnsupportedFormat
    );
    // And the simulator, like the API, sniffs the content: a GIF renamed .png is refused.
    let server = mock(MockConfig::default()).await;
    let mut form_body = Vec::new();
    let boundary = "XyZ";
    form_body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"model_id\"\r\n\r\n{MODEL}\r\n"
        )
        .as_bytes(),
    );
    form_body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    form_body.extend(b"GIF89a\x01\x00\x01\x00\x00\x00\x00");
    form_body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let resp = raw_request(
        &server.url(),
        "POST",
        "/v2/products/extraction/enqueue",
        &[("Authorization", KEY), ("Content-Type", &ct)],
        &form_body,
    )
    .await;
    assert_eq!(resp.0, 422, "{}", resp.1);
    assert_eq!(resp.1["errors"][0]["pointer"], "#/file");
    assert_eq!(resp.1["errors"][0]["detail"], "unsupported_format");
    assert_eq!(server.stats().jobs_created, 0);
}

#[tokio::test]
async fn webhook_flow_delivers_a_signed_result() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A one-shot receiver on loopback that captures the delivery.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let receiver = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).await.unwrap();
            buf.extend(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(h) = text.find("\r\n\r\n") {
                let len: usize = text[..h]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= h + 4 + len || n == 0 {
                    s.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await
                    .unwrap();
                    let headers = text[..h].to_string();
                    return (headers, buf[h + 4..h + 4 + len].to_vec());
                }
            }
        }
    });
    let secret = "whsec_test_secret";
    let server = mock(MockConfig {
        webhooks: vec![MockWebhook {
            id: "b0b0b0b0-1111-4222-8333-444455556666".into(),
            url: hook_url,
            secret: secret.into(),
        }],
        ..Default::default()
    })
    .await;
    let c = client(&server.url());
    // An unknown webhook is refused, as the API does.
    let err = c
        .enqueue(
            &png_source(),
            &EnqueueParams::new(MODEL).webhook_id("00000000-0000-4000-8000-000000000000"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no matching webhooks"), "{err}");

    let job = c
        .enqueue(
            &png_source(),
            &EnqueueParams::new(MODEL).webhook_id("b0b0b0b0-1111-4222-8333-444455556666"),
        )
        .await
        .unwrap();
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), receiver)
        .await
        .unwrap()
        .unwrap();
    let signature = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("x-signature: ")
                .or_else(|| l.strip_prefix("X-Signature: "))
        })
        .expect("X-Signature header")
        .trim()
        .to_string();
    match webhook::verify_and_parse(secret, &body, &signature).expect("valid delivery") {
        webhook::Payload::Inference(r) => assert_eq!(r.inference.id, job.id),
        other => panic!("{other:?}"),
    }
    assert!(!webhook::verify("another secret", &body, &signature));
    // The job records the delivery.
    let done = c.get_job(&job.id).await.unwrap();
    assert_eq!(done.webhooks.len(), 1);
    assert_eq!(done.webhooks[0].status.as_deref(), Some("Processed"));
}
