//! Routing and answers of the simulator.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST, LOCATION, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::util::{is_uuid, now_iso, uuid_v4};
use super::{lock, FaultKind, RecordedEnqueue, RequestRecord, Route, Shared};
use crate::upload::Product;
use crate::Format;

/// The API takes files of at most 100 MB.
const MAX_FILE: usize = 100 * 1000 * 1000;
/// Room for the other form fields around the file.
const MAX_BODY: usize = MAX_FILE + 1024 * 1024;

type Body = Full<Bytes>;

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (fault injection)")
    }
}

impl std::error::Error for DropConnection {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Processing,
    Processed,
    Failed,
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    raw_text: bool,
    polygon: bool,
    confidence: bool,
    rag: bool,
    text_context: bool,
    data_schema: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct JobState {
    id: String,
    product: Product,
    model_id: String,
    filename: String,
    alias: Option<String>,
    created_at: String,
    completed_at: Option<String>,
    polls: u32,
    status: Status,
    fail: bool,
    mime_type: String,
    page_count: u32,
    options: Options,
    webhooks: Vec<Value>,
}

pub(crate) async fn serve(
    listener: TcpListener,
    state: Shared,
    mut stopped: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    conns.spawn(async move {
                        let svc = service_fn(move |req| handle(state.clone(), req));
                        // Errors here are dropped connections (ours or the client's).
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = stopped.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

enum Target {
    Enqueue(Product),
    Job(String),
    Result(Option<Product>, String),
    Search,
    MockStats,
    NotFound,
    MethodNotAllowed,
}

fn route(method: &Method, path: &str) -> Target {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let target = match segs.as_slice() {
        ["v2", "products", slug, "enqueue"] => slug.parse().map(Target::Enqueue).ok(),
        ["v2", "inferences", "enqueue"] => Some(Target::Enqueue(Product::Extraction)),
        ["v2", "jobs", id] => Some(Target::Job(id.to_string())),
        ["v2", "products", slug, "results", id] => slug
            .parse()
            .ok()
            .map(|p| Target::Result(Some(p), id.to_string())),
        ["v2", "inferences", id] => Some(Target::Result(None, id.to_string())),
        ["v2", "search", "models"] => Some(Target::Search),
        ["_mock", "stats"] => Some(Target::MockStats),
        _ => None,
    };
    match target {
        Some(Target::Enqueue(p)) if method == Method::POST => Target::Enqueue(p),
        Some(t @ (Target::Job(_) | Target::Result(..) | Target::Search | Target::MockStats))
            if method == Method::GET =>
        {
            t
        }
        Some(_) => Target::MethodNotAllowed,
        None => Target::NotFound,
    }
}

async fn handle(state: Shared, req: Request<Incoming>) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    // Read the whole body first, so that early answers (401, faults) never cut an upload short.
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "413-001",
                "File too large",
                "The API accepts files of at most 100 MB.",
                &[("#/file", "file is over 100 MB")],
            ))
        }
        Err(_) => return Err(DropConnection),
    };
    let target = route(&parts.method, parts.uri.path());
    if matches!(target, Target::MockStats) {
        if let Some(refusal) = check_auth(&state, parts.headers.get(AUTHORIZATION)) {
            return Ok(refusal);
        }
        return Ok(json_response(StatusCode::OK, &mock_stats(&state)));
    }
    let fault_route = match &target {
        Target::Enqueue(_) => Route::Enqueue,
        Target::Job(_) => Route::Job,
        Target::Result(..) => Route::Result,
        Target::Search => Route::Search,
        _ => Route::Any,
    };
    let latency = {
        let mut s = lock(&state);
        let at = s.started.elapsed();
        s.requests.push(RequestRecord {
            at,
            route: fault_route,
        });
        s.config.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(kind) = take_fault(&state, fault_route) {
        return fault_answer(kind);
    }
    // A random fault on an enqueue strikes before the job is created or, as often, after:
    // then the job exists and the client never hears of it.
    let (random, after) = random_fault(&state, fault_route);
    if let (Some(kind), false) = (&random, after) {
        return fault_answer(kind.clone());
    }
    if let Some(refusal) = check_auth(&state, parts.headers.get(AUTHORIZATION)) {
        return Ok(refusal);
    }
    let base = match parts.headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(h) => format!("http://{h}"),
        None => format!("http://{}", lock(&state).addr),
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Target::Enqueue(product) = target {
        let answer = enqueue(&state, product, &base, &content_type, body).await;
        if let Some(kind) = random {
            if answer.status() == StatusCode::ACCEPTED {
                lock(&state).stats.hidden_jobs += 1;
            }
            return fault_answer(kind);
        }
        return Ok(answer);
    }
    Ok(match target {
        Target::Enqueue(_) | Target::MockStats => unreachable!("answered above"),
        Target::Search => search(&state, parts.uri.query().unwrap_or("")),
        Target::Job(id) => get_job(&state, &id, &base),
        Target::Result(product, id) => get_result(&state, product, &id),
        Target::MethodNotAllowed => problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "405-001",
            "Method not allowed",
            "This route does not take this method.",
            &[],
        ),
        Target::NotFound => problem(
            StatusCode::NOT_FOUND,
            "404-001",
            "Not found",
            "No such route.",
            &[],
        ),
    })
}

fn take_fault(state: &Shared, route: Route) -> Option<FaultKind> {
    let mut s = lock(state);
    for i in 0..s.config.faults.len() {
        let f = s.config.faults[i].clone();
        if f.route != Route::Any && f.route != route {
            continue;
        }
        s.fault_hits[i] += 1;
        let n = s.fault_hits[i];
        let hit = if f.every > 0 {
            n > f.skip && (n - f.skip).is_multiple_of(f.every)
        } else {
            n > f.skip && n <= f.skip.saturating_add(f.times)
        };
        if hit {
            s.stats.faults_injected += 1;
            return Some(f.kind);
        }
    }
    None
}

/// Draws the random fault of this request, if any, and whether it strikes after the work
/// (enqueue only, for 500 and drops).
fn random_fault(state: &Shared, route: Route) -> (Option<FaultKind>, bool) {
    let mut s = lock(state);
    let Some(f) = s.config.random_faults else {
        return (None, false);
    };
    let r = s.rng.f64();
    let kind = if r < f.p429 {
        FaultKind::TooManyRequests(Some("1".into()))
    } else if r < f.p429 + f.p500 {
        FaultKind::ServerError
    } else if r < f.p429 + f.p500 + f.pdrop {
        FaultKind::Drop
    } else {
        return (None, false);
    };
    let after = route == Route::Enqueue
        && kind != FaultKind::TooManyRequests(Some("1".into()))
        && s.rng.bool();
    s.stats.faults_injected += 1;
    (Some(kind), after)
}

/// Jobs created per file name (hidden ones included).
pub(crate) fn jobs_per_file(
    enqueues: &[RecordedEnqueue],
) -> std::collections::HashMap<String, u32> {
    let mut out = std::collections::HashMap::new();
    for e in enqueues.iter().filter(|e| e.job_id.is_some()) {
        let name = e
            .file_name
            .clone()
            .or_else(|| {
                e.fields
                    .iter()
                    .find(|(k, _)| k == "url")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_default();
        *out.entry(name).or_insert(0) += 1;
    }
    out
}

/// `GET /_mock/stats`: counters, jobs per file and the request log, for tests that drive the
/// simulator as a separate process.
fn mock_stats(state: &Shared) -> Value {
    let s = lock(state);
    let st = &s.stats;
    json!({
        "jobs_created": st.jobs_created,
        "job_polls": st.job_polls,
        "results_served": st.results_served,
        "unauthorized": st.unauthorized,
        "faults_injected": st.faults_injected,
        "webhook_deliveries": st.webhook_deliveries,
        "hidden_jobs": st.hidden_jobs,
        "enqueue_requests": s.enqueues.len(),
        "jobs_per_file": jobs_per_file(&s.enqueues),
        "requests": s.requests.iter().map(|r| json!([r.at.as_secs_f64() * 1000.0, format!("{:?}", r.route).to_lowercase()])).collect::<Vec<_>>(),
    })
}

/// `GET /v2/search/models?name=&model_type=`: the configured models, filtered.
fn search(state: &Shared, query: &str) -> Response<Body> {
    let s = lock(state);
    let mut name = None;
    let mut model_type = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "name" => name = Some(v.to_lowercase()),
            "model_type" => model_type = Some(v.to_string()),
            _ => {}
        }
    }
    let models: Vec<Value> = s
        .config
        .models
        .iter()
        .filter(|m| {
            name.as_ref().is_none_or(|n| {
                m["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(n.as_str())
            }) && model_type
                .as_ref()
                .is_none_or(|t| m["model_type"].as_str() == Some(t.as_str()))
        })
        .cloned()
        .collect();
    let total = models.len();
    json_response(
        StatusCode::OK,
        &json!({
            "models": models,
            "pagination": {"per_page": 50, "page": 1, "total_items": total, "total_pages": 1,
                           "total_items_unfiltered": s.config.models.len()},
        }),
    )
}

fn fault_answer(kind: FaultKind) -> Result<Response<Body>, DropConnection> {
    Ok(match kind {
        FaultKind::Drop => return Err(DropConnection),
        FaultKind::TooManyRequests(retry_after) => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "429-001",
                "Too many requests",
                "Rate limit exceeded (simulated).",
                &[],
            );
            if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                r.headers_mut().insert(RETRY_AFTER, v);
            }
            r
        }
        FaultKind::ServerError => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500-001",
            "Internal server error",
            "Something went wrong (simulated).",
            &[],
        ),
        FaultKind::Unavailable => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "503-001",
            "Service unavailable",
            "Try again later (simulated).",
            &[],
        ),
        FaultKind::BadGatewayHtml => respond(
            StatusCode::BAD_GATEWAY,
            "text/html",
            Bytes::from_static(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        ),
        // `FaultKind` is non-exhaustive only for users; every kind is handled above.
    })
}

fn check_auth(state: &Shared, header: Option<&HeaderValue>) -> Option<Response<Body>> {
    let mut s = lock(state);
    let given = header
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let refusal = if given.is_empty() {
        Some((
            "401-008",
            "Missing credentials",
            "Credentials are required.",
        ))
    } else {
        match &s.config.api_key {
            Some(k) if k != given => Some((
                "401-001",
                "Invalid API key",
                "The provided API key is invalid.",
            )),
            _ => None,
        }
    };
    let (code, title, detail) = refusal?;
    s.stats.unauthorized += 1;
    Some(problem(StatusCode::UNAUTHORIZED, code, title, detail, &[]))
}

struct Form {
    fields: Vec<(String, String)>,
    file: Option<(String, Bytes)>,
}

impl Form {
    fn last(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn parse_form(content_type: &str, body: Bytes) -> Result<Form, String> {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(content_type).map_err(|e| e.to_string())?;
            let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
            let mut mp = multer::Multipart::new(stream, boundary);
            let mut form = Form {
                fields: Vec::new(),
                file: None,
            };
            while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(str::to_owned);
                let data = field.bytes().await.map_err(|e| e.to_string())?;
                if name == "file" {
                    form.file = Some((file_name.unwrap_or_default(), data));
                } else {
                    form.fields
                        .push((name, String::from_utf8_lossy(&data).into_owned()));
                }
            }
            Ok(form)
        }
        "application/x-www-form-urlencoded" => Ok(Form {
            fields: form_urlencoded::parse(&body).into_owned().collect(),
            file: None,
        }),
        other => Err(format!(
            "expected multipart/form-data or application/x-www-form-urlencoded, got {other:?}"
        )),
    }
}

fn parse_bool(form: &Form, name: &str) -> Result<Option<bool>, String> {
    match form.last(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v == "true" => Ok(Some(true)),
        Some(v) if v == "false" => Ok(Some(false)),
        Some(v) => Err(format!("{name} must be true or false, got {v:?}")),
    }
}

fn invalid(pointer: &str, detail: &str) -> Response<Body> {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "422-001",
        "Invalid fields in form",
        "One or more fields failed validation.",
        &[(pointer, detail)],
    )
}

async fn enqueue(
    state: &Shared,
    product: Product,
    base: &str,
    content_type: &str,
    body: Bytes,
) -> Response<Body> {
    let form = match parse_form(content_type, body).await {
        Ok(f) => f,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "400-002",
                "Malformed request body",
                &e,
                &[],
            )
        }
    };
    let record = {
        let mut s = lock(state);
        s.enqueues.push(RecordedEnqueue {
            product,
            content_type: content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
            fields: form.fields.clone(),
            file_name: form.file.as_ref().map(|(n, _)| n.clone()),
            file_len: form.file.as_ref().map(|(_, b)| b.len()),
            job_id: None,
        });
        s.enqueues.len() - 1
    };

    let Some(model_id) = form.last("model_id").map(str::trim).map(str::to_owned) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "400-001",
            "Missing parameter",
            "A required field is missing.",
            &[("#/model_id", "model_id is required")],
        );
    };
    if !is_uuid(&model_id) {
        return invalid("#/model_id", "model_id must be a valid UUID format");
    }
    let url = form.last("url").map(str::to_owned);
    let (filename, mime_type, page_count) = match (&form.file, &url) {
        (Some((name, bytes)), None) => {
            if bytes.len() > MAX_FILE {
                return problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "413-001",
                    "File too large",
                    "The API accepts files of at most 100 MB.",
                    &[("#/file", "file is over 100 MB")],
                );
            }
            // Like the API: the type comes from the content, never from the name.
            match crate::upload::source::api_refusal(bytes) {
                Ok(format) => (
                    name.clone(),
                    format.mime_type().to_string(),
                    page_count(format, bytes),
                ),
                Err(e) => {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "422-004",
                        "Invalid file",
                        &format!("The file was refused: {e}"),
                        &[("#/file", e.kind().as_str())],
                    )
                }
            }
        }
        (None, Some(u)) => {
            if !u.starts_with("https://") {
                return invalid("#/url", "url must be a public https URL");
            }
            let name = u
                .split(['?', '#'])
                .next()
                .and_then(|p| p.rsplit('/').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("remote_file")
                .to_string();
            let mime = mime_from_name(&name);
            (name, mime.to_string(), 1)
        }
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "400-001",
                "Missing parameter",
                "Send exactly one of `file` and `url`.",
                &[("#/file", "exactly one of file or url is required")],
            )
        }
    };
    let mut opts = Options {
        raw_text: false,
        polygon: false,
        confidence: false,
        rag: false,
        text_context: false,
        data_schema: false,
    };
    if product == Product::Extraction {
        for (name, slot) in [
            ("raw_text", &mut opts.raw_text),
            ("polygon", &mut opts.polygon),
            ("confidence", &mut opts.confidence),
            ("rag", &mut opts.rag),
        ] {
            match parse_bool(&form, name) {
                Ok(v) => *slot = v.unwrap_or(false),
                Err(e) => return invalid(&format!("#/{name}"), &e),
            }
        }
        opts.text_context = form.last("text_context").is_some_and(|t| !t.is_empty());
        if let Some(schema) = form.last("data_schema") {
            if serde_json::from_str::<Value>(schema).is_err() {
                return invalid("#/data_schema", "data_schema must be valid JSON");
            }
            opts.data_schema = true;
        }
    }
    let mut webhook_ids: Vec<String> = Vec::new();
    for (k, v) in &form.fields {
        if k == "webhook_ids" || k == "webhook_ids[]" {
            for id in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !webhook_ids.iter().any(|w| w == id) {
                    webhook_ids.push(id.to_string());
                }
            }
        }
    }

    let mut s = lock(state);
    let unknown: Vec<&String> = webhook_ids
        .iter()
        .filter(|id| !s.config.webhooks.iter().any(|w| &w.id == *id))
        .collect();
    if !unknown.is_empty() {
        let detail = format!(
            "no matching webhooks for {}",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        drop(s);
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "422-009",
            "Invalid fields in form",
            &detail,
            &[("#/webhook_ids", "no matching webhooks")],
        );
    }
    let job = JobState {
        id: uuid_v4(),
        product,
        fail: s
            .config
            .failing_model_ids
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&model_id)),
        model_id,
        filename,
        alias: form.last("alias").map(str::to_owned),
        created_at: now_iso(),
        completed_at: None,
        polls: 0,
        status: Status::Processing,
        mime_type,
        page_count,
        options: opts,
        webhooks: Vec::new(),
    };
    let answer = json_response(StatusCode::ACCEPTED, &job_json(&job, base));
    s.stats.jobs_created += 1;
    let id = job.id.clone();
    if let Some(r) = s.enqueues.get_mut(record) {
        r.job_id = Some(id.clone());
    }
    s.jobs.insert(id.clone(), job);
    drop(s);
    if !webhook_ids.is_empty() {
        tokio::spawn(deliver_webhooks(state.clone(), id, webhook_ids));
    }
    answer
}

fn page_count(format: Format, bytes: &[u8]) -> u32 {
    if format != Format::Pdf {
        return 1;
    }
    // Good enough for a simulator: count page objects, not the page tree (`/Type /Pages`).
    let mut n = 0u32;
    for pat in [&b"/Type /Page"[..], &b"/Type/Page"[..]] {
        let mut i = 0;
        while let Some(pos) = bytes[i..].windows(pat.len()).position(|w| w == pat) {
            let end = i + pos + pat.len();
            if bytes.get(end) != Some(&b's') {
                n += 1;
            }
            i = end;
        }
    }
    n.max(1)
}

fn mime_from_name(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "tif" | "tiff" => "image/tiff",
        _ => "image/jpeg",
    }
}

fn complete(job: &mut JobState) {
    if job.status == Status::Processing {
        job.status = if job.fail {
            Status::Failed
        } else {
            Status::Processed
        };
        job.completed_at = Some(now_iso());
    }
}

fn get_job(state: &Shared, id: &str, base: &str) -> Response<Body> {
    let mut s = lock(state);
    let processing_polls = s.config.processing_polls;
    s.stats.job_polls += 1;
    let Some(job) = s.jobs.get_mut(id) else {
        return problem(
            StatusCode::NOT_FOUND,
            "404-003",
            "Job not found",
            "No job has this ID.",
            &[],
        );
    };
    job.polls += 1;
    if job.polls > processing_polls {
        complete(job);
    }
    let body = job_json(job, base);
    match job.status {
        Status::Processed => {
            let location = result_url(job, base);
            let mut r = json_response(StatusCode::FOUND, &body);
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        _ => json_response(StatusCode::OK, &body),
    }
}

fn get_result(state: &Shared, product: Option<Product>, id: &str) -> Response<Body> {
    let mut s = lock(state);
    let ready = s
        .jobs
        .get(id)
        .filter(|j| j.status == Status::Processed && product.is_none_or(|p| p == j.product));
    let Some(job) = ready else {
        return problem(
            StatusCode::NOT_FOUND,
            "404-002",
            "Result not found",
            "No result has this ID yet: it does not exist, is for another product, or is not ready for use.",
            &[],
        );
    };
    let body = result_json(job, &s.config.results);
    s.stats.results_served += 1;
    json_response(StatusCode::OK, &body)
}

fn result_url(job: &JobState, base: &str) -> String {
    format!(
        "{base}/v2/products/{}/results/{}",
        job.product.slug(),
        job.id
    )
}

fn failure(job: &JobState) -> Value {
    json!({
        "status": 500,
        "detail": format!("The model {} could not process the file (simulated failure).", job.model_id),
        "title": "Inference failed",
        "code": "500-012",
        "errors": []
    })
}

fn job_json(job: &JobState, base: &str) -> Value {
    json!({
        "job": {
            "id": job.id,
            "model_id": job.model_id,
            "filename": job.filename,
            "alias": job.alias,
            "created_at": job.created_at,
            "completed_at": job.completed_at,
            "status": match job.status {
                Status::Processing => "Processing",
                Status::Processed => "Processed",
                Status::Failed => "Failed",
            },
            "polling_url": format!("{base}/v2/jobs/{}", job.id),
            "result_url": (job.status == Status::Processed).then(|| result_url(job, base)),
            "webhooks": job.webhooks,
            "error": (job.status == Status::Failed).then(|| failure(job)),
        }
    })
}

fn result_json(job: &JobState, custom: &std::collections::HashMap<Product, Value>) -> Value {
    if let Some(v) = custom.get(&job.product) {
        return v.clone();
    }
    let o = &job.options;
    let conf = |c: &str| if o.confidence { json!(c) } else { Value::Null };
    let locs = |page: u32| {
        if o.polygon {
            json!([{"page": page, "polygon": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.2], [0.1, 0.2]]}])
        } else {
            json!([])
        }
    };
    let simple =
        |v: Value, c: &str| json!({"value": v, "confidence": conf(c), "locations": locs(0)});
    let full_page = json!([[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]]);
    let result = match job.product {
        Product::Extraction => json!({
            "fields": {
                "document_type": simple(json!("INVOICE"), "Certain"),
                "supplier_name": simple(json!("Mock Supplier Ltd"), "High"),
                "total_amount": simple(json!(42.5), "High"),
                "total_tax": simple(json!(0), "Medium"),
                "due_date": simple(Value::Null, "Low"),
                "line_items": {
                    "items": [{
                        "fields": {
                            "description": simple(json!("Simulated item"), "High"),
                            "quantity": simple(json!(1), "High"),
                        },
                        "confidence": Value::Null,
                        "locations": [],
                    }],
                },
                "supplier_address": {
                    "fields": {"country": simple(json!("FR"), "Medium")},
                    "confidence": Value::Null,
                    "locations": [],
                },
            },
            "raw_text": if o.raw_text {
                json!({"pages": (1..=job.page_count).map(|p| json!({"content": format!("Simulated text of page {p}")})).collect::<Vec<_>>()})
            } else {
                Value::Null
            },
            "rag": if o.rag { json!({"retrieved_document_id": Value::Null}) } else { Value::Null },
        }),
        Product::Split => json!({
            "splits": [{"page_range": [0, job.page_count.saturating_sub(1)], "document_type": "invoice"}]
        }),
        Product::Crop => json!({
            "crops": [{"object_type": "invoice", "location": {"page": 0, "polygon": full_page}}]
        }),
        Product::Ocr => json!({
            "pages": (0..job.page_count).map(|_| json!({
                "words": [
                    {"content": "Simulated", "polygon": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.15], [0.1, 0.15]]},
                    {"content": "text", "polygon": [[0.32, 0.1], [0.4, 0.1], [0.4, 0.15], [0.32, 0.15]]},
                ],
                "content": "Simulated text",
            })).collect::<Vec<_>>()
        }),
        Product::Classification => json!({"classification": {"document_type": "invoice"}}),
    };
    let mut inference = json!({
        "id": job.id,
        "job": {"id": job.id},
        "model": {"id": job.model_id},
        "file": {
            "name": job.filename,
            "alias": job.alias,
            "page_count": job.page_count,
            "mime_type": job.mime_type,
        },
        "result": result,
    });
    if job.product == Product::Extraction {
        inference["active_options"] = json!({
            "raw_text": o.raw_text,
            "polygon": o.polygon,
            "confidence": o.confidence,
            "rag": o.rag,
            "text_context": o.text_context,
            "data_schema": {"replace": o.data_schema},
        });
    }
    json!({ "inference": inference })
}

/// Completes the job and POSTs its result (or failure notice), signed, to each webhook.
async fn deliver_webhooks(state: Shared, job_id: String, ids: Vec<String>) {
    // Give the enqueue answer a head start, as the real service would.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (body, targets) = {
        let mut s = lock(&state);
        let custom = s.config.results.clone();
        let hooks = s.config.webhooks.clone();
        let Some(job) = s.jobs.get_mut(&job_id) else {
            return;
        };
        complete(job);
        let body = if job.status == Status::Failed {
            json!({
                "inference_id": job.id,
                "model_id": job.model_id,
                "file_name": job.filename,
                "file_alias": job.alias,
                "error": failure(job),
                "created_at": job.created_at,
            })
        } else {
            result_json(job, &custom)
        };
        let targets: Vec<_> = hooks.into_iter().filter(|h| ids.contains(&h.id)).collect();
        (body, targets)
    };
    // Compact JSON: the SDKs strip newlines before checking the signature.
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let http = match crate::upload::client::tls_config().and_then(|tls| {
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| crate::Error::Network(e.to_string()))
    }) {
        Ok(c) => c,
        Err(_) => return,
    };
    let repeats = lock(&state).config.webhook_deliveries.max(1);
    let targets: Vec<_> = targets
        .into_iter()
        .flat_map(|h| std::iter::repeat_n(h, repeats as usize))
        .collect();
    for hook in targets {
        let signature = crate::upload::webhook::sign(&hook.secret, &body);
        let outcome = http
            .post(&hook.url)
            .header(CONTENT_TYPE, "application/json")
            .header(crate::upload::webhook::SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await;
        let ok = matches!(&outcome, Ok(r) if r.status().is_success());
        let mut s = lock(&state);
        s.stats.webhook_deliveries += 1;
        if let Some(job) = s.jobs.get_mut(&job_id) {
            job.webhooks.push(json!({
                "id": hook.id,
                "created_at": now_iso(),
                "status": if ok { "Processed" } else { "Failed" },
                "error": if ok { Value::Null } else {
                    json!({"status": 502, "detail": "The webhook endpoint did not answer 2xx.", "title": "Webhook delivery failed", "code": "502-001", "errors": []})
                },
            }));
        }
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    respond(
        status,
        "application/json",
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    )
}

fn problem(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: &str,
    errors: &[(&str, &str)],
) -> Response<Body> {
    json_response(
        status,
        &json!({
            "status": status.as_u16(),
            "detail": detail,
            "title": title,
            "code": code,
            "errors": errors.iter().map(|(p, d)| json!({"pointer": p, "detail": d})).collect::<Vec<_>>(),
        }),
    )
}
