//! The API key never appears in Debug, Display, errors or the simulator's records.

mod upload_common;

use mindee_prep::upload::mock::{Fault, FaultKind, MockConfig, MockServer, Route};
use mindee_prep::upload::{ApiKey, Client, EnqueueParams, Source};
use upload_common::*;

#[tokio::test]
async fn key_never_appears_in_debug_display_or_errors() {
    let key = ApiKey::new(KEY).unwrap();
    let builder = Client::builder()
        .api_key(key.clone())
        .base_url("http://127.0.0.1:1");
    let mut texts = vec![
        format!("{key:?}"),
        format!("{key}"),
        format!("{builder:?}"),
        format!("{:?}", builder.clone().build().unwrap()),
    ];

    // Errors of every upload kind, each with the key configured.
    let server = MockServer::start(MockConfig {
        api_key: Some("md_another_key".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let c = client(&server.url());
    let src = Source::bytes(png(8, 8), "k.png").unwrap();
    let unauthorized = c
        .enqueue(&src, &EnqueueParams::new(MODEL))
        .await
        .unwrap_err();
    texts.push(format!("{unauthorized} {unauthorized:?}"));

    let server2 = MockServer::start(MockConfig {
        api_key: Some(KEY.into()),
        faults: vec![Fault::next(Route::Enqueue, FaultKind::BadGatewayHtml, 1)],
        ..Default::default()
    })
    .await
    .unwrap();
    let c2 = client(&server2.url());
    for params in [EnqueueParams::new(MODEL), EnqueueParams::new("bad-model")] {
        let e = c2.enqueue(&src, &params).await.unwrap_err();
        texts.push(format!("{e} {e:?}"));
    }
    let e = c2.get_job("no-such-job").await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    let refused = client("http://127.0.0.1:1").get_job("x").await.unwrap_err();
    texts.push(format!("{refused} {refused:?}"));
    let config = Client::builder()
        .api_key(key)
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    texts.push(format!("{config} {config:?}"));
    texts.push(format!("{:?}", server2.enqueues()));

    for t in &texts {
        assert!(!t.contains(KEY), "key leaked in: {t}");
        assert!(!t.contains("7f3a9c"), "part of the key leaked in: {t}");
    }
    assert!(texts.iter().any(|t| t.contains("ApiKey(***)")));
}
