//! Every recorded response of the conformance folder parses into the typed models and
//! serialises back to the same JSON; the webhook test vector verifies.

mod upload_common;

use mindee_prep::upload::model::{
    DataSchema, FieldKind, InferenceResponse, InferenceResult, JobResponse, JobStatus,
    ModelSearchResponse, ProblemDetails, Response,
};
use mindee_prep::upload::webhook;
use serde_json::Value;
use upload_common::{conformance_dir, json_files};

fn read(rel: &str) -> Vec<u8> {
    let p = conformance_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Parses `bytes` as `T`, re-serialises, and compares with the original as JSON values.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(name: &str, bytes: &[u8]) -> T {
    let original: Value = serde_json::from_slice(bytes).unwrap();
    let typed: T = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let again = serde_json::to_value(&typed).unwrap();
    assert_eq!(again, original, "{name}: re-serialised JSON differs");
    typed
}

#[test]
fn every_recorded_json_parses_and_round_trips() {
    let dir = conformance_dir();
    let files = json_files(&dir);
    assert!(
        files.len() >= 31,
        "expected the whole folder, found {} files",
        files.len()
    );
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let kind = if value.get("inference").is_some() {
            let r: InferenceResponse = round_trip(&name, &bytes);
            // The product is told apart by shape, never left unparsed.
            assert!(
                !matches!(r.inference.result, InferenceResult::Other(_)),
                "{name}: result not recognised"
            );
            let product = name.split('/').nth(1).unwrap_or("");
            let ok = matches!(
                (&r.inference.result, product),
                (InferenceResult::Extraction(_), "extraction")
                    | (InferenceResult::Split(_), "split")
                    | (InferenceResult::Crop(_), "crop")
                    | (InferenceResult::Ocr(_), "ocr")
                    | (InferenceResult::Classification(_), "classification")
            );
            assert!(ok, "{name}: parsed as the wrong product");
            "inference"
        } else if value.get("job").is_some() {
            round_trip::<JobResponse>(&name, &bytes);
            "job"
        } else if value.get("models").is_some() {
            round_trip::<ModelSearchResponse>(&name, &bytes);
            "search"
        } else if value.get("replace").is_some() {
            round_trip::<DataSchema>(&name, &bytes);
            "data_schema"
        } else if value.get("status").is_some() && value.get("code").is_some() {
            round_trip::<ProblemDetails>(&name, &bytes);
            "problem"
        } else {
            panic!("{name}: unknown kind of recorded JSON");
        };
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds.get("job"), Some(&3));
    assert_eq!(kinds.get("problem"), Some(&2));
    assert_eq!(kinds.get("search"), Some(&1));
    assert_eq!(kinds.get("data_schema"), Some(&1));
    assert_eq!(kinds.get("inference"), Some(&24), "{kinds:?}");
}

#[test]
fn job_fixtures_take_the_right_branches() {
    let processing: JobResponse = serde_json::from_slice(&read("job/ok_processing.json")).unwrap();
    assert_eq!(processing.job.status, JobStatus::Processing);
    assert_eq!(processing.job.result_url, None);
    assert_eq!(processing.job.completed_at, None);

    let done: JobResponse =
        serde_json::from_slice(&read("job/ok_processed_webhooks_ok.json")).unwrap();
    assert_eq!(done.job.status, JobStatus::Processed);
    assert!(done
        .job
        .result_url
        .as_deref()
        .unwrap()
        .ends_with("/v2/inferences/12345678-1234-1234-1234-123456789ABC"));
    assert_eq!(done.job.webhooks.len(), 1);
    assert_eq!(done.job.webhooks[0].status.as_deref(), Some("Processed"));

    let failed: JobResponse = serde_json::from_slice(&read("job/fail_422.json")).unwrap();
    assert_eq!(failed.job.status, JobStatus::Failed);
    let p = failed.job.error.unwrap().to_api_problem(200);
    assert_eq!(p.status, 422);
    assert_eq!(p.code.as_deref(), Some("422-001"));
    assert_eq!(
        p.pointers,
        vec![(
            "#/model_id".to_string(),
            "model_id must be a valid UUID format".to_string()
        )]
    );
}

#[test]
fn error_fixtures_map_to_problems() {
    for (file, code, title) in [
        (
            "errors/error_401_invalid_api_key.json",
            "401-001",
            "Invalid API key",
        ),
        (
            "errors/error_401_missing_credentials.json",
            "401-008",
            "Missing credentials",
        ),
    ] {
        let p: ProblemDetails = serde_json::from_slice(&read(file)).unwrap();
        let p = p.to_api_problem(0);
        assert_eq!(p.status, 401);
        assert_eq!(p.code.as_deref(), Some(code));
        assert_eq!(p.title.as_deref(), Some(title));
        assert!(p.pointers.is_empty());
    }
}

#[test]
fn field_kinds_values_and_confidence() {
    let r: Response<InferenceResponse> =
        Response::from_slice(&read("products/extraction/standard_field_types.json")).unwrap();
    let ex = r.inference.result.as_extraction().unwrap();
    let f = |n: &str| ex.fields.get(n).unwrap_or_else(|| panic!("field {n}"));
    // Zero stays an integer 0, floats stay floats, null and bool survive.
    assert_eq!(f("field_simple_zero").value(), Some(&serde_json::json!(0)));
    assert!(f("field_simple_zero").value().unwrap().is_u64());
    assert_eq!(
        f("field_simple_float").value(),
        Some(&serde_json::json!(1.1))
    );
    assert_eq!(f("field_simple_bool").value(), Some(&Value::Bool(true)));
    assert_eq!(f("field_simple_null").value(), Some(&Value::Null));
    assert_eq!(
        f("field_simple_string").confidence().map(|c| c.as_str()),
        Some("Certain")
    );
    assert_eq!(f("field_simple_bool").confidence(), None);
    assert!(matches!(f("field_simple_list").kind(), FieldKind::List(items) if items.len() == 2));
    assert!(matches!(f("field_object").kind(), FieldKind::Object(sub) if sub.len() == 2));
    let obj_list = f("field_object_list").items().unwrap();
    assert_eq!(
        obj_list[1]
            .fields()
            .unwrap()
            .get("subfield_2")
            .unwrap()
            .value(),
        Some(&serde_json::json!("field_object_list-1-subfield_2-value"))
    );
    let loc = &f("field_simple_string").locations()[0];
    assert_eq!(
        (loc.page, loc.polygon[2].x(), loc.polygon[2].y()),
        (0, 1.0, 1.0)
    );
    // Field order is the server's.
    let names: Vec<&str> = ex.fields.iter().map(|(n, _)| n).collect();
    assert_eq!(names.first(), Some(&"field_simple_string"));
    assert_eq!(names.last(), Some(&"field_object_list"));
    // The raw JSON is kept alongside.
    assert_eq!(r.raw()["inference"]["file"]["name"], "test-file-name.jpg");
}

#[test]
fn raw_text_renders_like_the_sdks() {
    let r: InferenceResponse =
        serde_json::from_slice(&read("products/extraction/raw_texts.json")).unwrap();
    let text = r
        .inference
        .result
        .as_extraction()
        .unwrap()
        .raw_text()
        .unwrap()
        .to_string();
    let expected = String::from_utf8(read("products/extraction/raw_texts.txt")).unwrap();
    assert_eq!(text, expected.trim_end_matches('\n'));
    let rag: InferenceResponse =
        serde_json::from_slice(&read("products/extraction/rag_matched.json")).unwrap();
    assert!(rag
        .inference
        .result
        .as_extraction()
        .unwrap()
        .rag()
        .unwrap()
        .retrieved_document_id
        .is_some());
}

#[test]
fn products_and_chained_extractions() {
    let split: InferenceResponse =
        serde_json::from_slice(&read("products/split/default_sample_extraction.json")).unwrap();
    let InferenceResult::Split(s) = &split.inference.result else {
        panic!("not a split")
    };
    assert!(s.splits.iter().all(|x| x.extraction_response.is_some()));
    let ocr: InferenceResponse =
        serde_json::from_slice(&read("products/ocr/ocr_multiple.json")).unwrap();
    let InferenceResult::Ocr(o) = &ocr.inference.result else {
        panic!("not OCR")
    };
    assert_eq!(o.pages.len(), 3);
    let crop: InferenceResponse =
        serde_json::from_slice(&read("products/crop/crop_multiple.json")).unwrap();
    let InferenceResult::Crop(c) = &crop.inference.result else {
        panic!("not crop")
    };
    assert_eq!(c.crops.len(), 2);
}

const VECTOR_SECRET: &str = "ogNjY44MhvKPGTtVsI8zG82JqWQa68woYQH";
const VECTOR_SIGNATURE: &str = "e51bdf80f1a08ed44ee161100fc30a25cb35b4ede671b0a575dc9064a3f5dbf1";

#[test]
fn webhook_vector_verifies_and_parses() {
    let body = read("products/extraction/standard_field_types.json");
    assert_eq!(webhook::sign(VECTOR_SECRET, &body), VECTOR_SIGNATURE);
    assert!(webhook::verify(VECTOR_SECRET, &body, VECTOR_SIGNATURE));
    assert!(webhook::verify(
        VECTOR_SECRET,
        &body,
        &VECTOR_SIGNATURE.to_uppercase()
    ));
    match webhook::verify_and_parse(VECTOR_SECRET, &body, VECTOR_SIGNATURE).unwrap() {
        webhook::Payload::Inference(r) => {
            assert_eq!(r.inference.file.name, "test-file-name.jpg")
        }
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn tampered_webhooks_are_refused() {
    let body = read("products/extraction/standard_field_types.json");
    // One changed byte in the body.
    let mut altered = body.clone();
    let pos = altered
        .windows(5)
        .position(|w| w == b"12,\n ")
        .map(|p| p + 1)
        .unwrap_or(100);
    altered[pos] ^= 0x01;
    assert!(!webhook::verify(VECTOR_SECRET, &altered, VECTOR_SIGNATURE));
    // Wrong secret, truncated, extended, flipped digit, non-hex, empty signature.
    assert!(!webhook::verify("wrong secret", &body, VECTOR_SIGNATURE));
    assert!(!webhook::verify(
        VECTOR_SECRET,
        &body,
        &VECTOR_SIGNATURE[..63]
    ));
    assert!(!webhook::verify(
        VECTOR_SECRET,
        &body,
        &format!("{VECTOR_SIGNATURE}00")
    ));
    let mut flipped = VECTOR_SIGNATURE.to_string();
    flipped.replace_range(0..1, "f");
    assert!(!webhook::verify(VECTOR_SECRET, &body, &flipped));
    assert!(!webhook::verify(
        VECTOR_SECRET,
        &body,
        &VECTOR_SIGNATURE.replace('e', "g")
    ));
    assert!(!webhook::verify(VECTOR_SECRET, &body, ""));
    assert_eq!(
        webhook::verify_and_parse(VECTOR_SECRET, &altered, VECTOR_SIGNATURE).unwrap_err(),
        webhook::WebhookError::BadSignature
    );
    // Signed but not a payload.
    let junk = br#"{"hello":"world"}"#;
    let sig = webhook::sign(VECTOR_SECRET, junk);
    assert!(matches!(
        webhook::verify_and_parse(VECTOR_SECRET, junk, &sig),
        Err(webhook::WebhookError::Malformed(_))
    ));
}
