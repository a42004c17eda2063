//! A webhook receiver (feature `webhook-server`): takes the API's POSTs on `/`, checks
//! `X-Signature` before parsing anything, and writes each result atomically where the polling
//! flow would have, through the batch's [`journal`].
//!
//! * A missing, malformed or wrong signature gets **401** and nothing is written. The check is
//!   HMAC-SHA256 of the exact body under the signing secret, compared in constant time.
//! * Bodies over [`ReceiverConfig::max_body_bytes`] get **413** (a `Content-Length` over it is
//!   refused before any byte of the body is read).
//! * A signed result is written to `RESULTS_DIR/<name>.json` when the journal knows the job,
//!   else to `RESULTS_DIR/<job_id>.json` (and moved to its name once `upload` records the job),
//!   then answered **200**. A redelivery of the same result writes nothing new.
//! * A signed failed-inference notice marks the row `failed` with the API's error.
//! * Plain HTTP, or TLS (rustls) from PEM files: the API only calls public `https://` URLs, so
//!   either serve TLS here or put it behind a reverse proxy that does.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mindee_prep::Error> {
//! use mindee_prep::upload::receiver::{ReceiverConfig, WebhookReceiver};
//! use mindee_prep::upload::webhook::WebhookSecret;
//! let config = ReceiverConfig::new("results", WebhookSecret::from_env()?);
//! let receiver = WebhookReceiver::bind("127.0.0.1:8080".parse().unwrap(), config).await?;
//! println!("listening on {}", receiver.url());
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::batch::result_bytes;
use super::journal::{self, Access, Journal};
use super::webhook::{self, Payload, WebhookSecret, SIGNATURE_HEADER};
use crate::Error;

/// The default body limit: 64 MiB, far above the largest result (OCR of a long document).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How the receiver runs.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Where results go.
    pub results_dir: PathBuf,
    /// The journal. Default (`None`): `RESULTS_DIR/.mindee-prep/journal.sqlite`.
    pub journal: Option<PathBuf>,
    /// The webhook's signing secret.
    pub secret: WebhookSecret,
    /// Larger bodies are refused with 413. Default: [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// Serve TLS with these files. Default: `None` (plain HTTP).
    pub tls: Option<TlsFiles>,
}

impl ReceiverConfig {
    /// Defaults for this results folder and secret.
    pub fn new(results_dir: impl Into<PathBuf>, secret: WebhookSecret) -> Self {
        ReceiverConfig {
            results_dir: results_dir.into(),
            journal: None,
            secret,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tls: None,
        }
    }
}

/// What the receiver has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Signed results and failure notices stored.
    pub accepted: u32,
    /// Refused for a missing or wrong signature (401).
    pub bad_signature: u32,
    /// Refused for size (413).
    pub too_large: u32,
    /// Signed but unreadable, or not a POST on `/` (4xx).
    pub other_refusals: u32,
}

struct State {
    results_dir: PathBuf,
    journal: Mutex<Journal>,
    secret: WebhookSecret,
    max_body: usize,
    stats: Mutex<ReceiverStats>,
}

/// A running receiver. Stops on [`WebhookReceiver::shutdown`] or when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    tls: bool,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WebhookReceiver {
    /// Opens the journal (creating it if needed), loads the TLS files if any, and listens on
    /// `addr` (port 0 picks a free one).
    pub async fn bind(addr: SocketAddr, config: ReceiverConfig) -> Result<WebhookReceiver, Error> {
        std::fs::create_dir_all(&config.results_dir)
            .map_err(|e| Error::io(config.results_dir.display().to_string(), e))?;
        let journal_path = config
            .journal
            .clone()
            .unwrap_or_else(|| journal::default_path(&config.results_dir));
        let journal = Journal::open(&journal_path, Access::Shared)?;
        let acceptor = match &config.tls {
            Some(files) => Some(tls_acceptor(files)?),
            None => None,
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
        let state = Arc::new(State {
            results_dir: config.results_dir,
            journal: Mutex::new(journal),
            secret: config.secret,
            max_body: config.max_body_bytes,
            stats: Mutex::new(ReceiverStats::default()),
        });
        let (stop, stopped) = watch::channel(false);
        let tls = acceptor.is_some();
        let task = tokio::spawn(serve(listener, state.clone(), acceptor, stopped));
        Ok(WebhookReceiver {
            addr,
            tls,
            state,
            stop,
            task: Some(task),
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/` or `https://ADDR/`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}/",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Counters.
    pub fn stats(&self) -> ReceiverStats {
        lock(&self.state.stats).clone()
    }

    /// Stops accepting, closes connections and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Loads PEM files into a rustls acceptor (ring provider, TLS 1.2 and 1.3, HTTP/1.1).
fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::Config(format!(
                "cannot read the certificate {}: {e}",
                files.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "no certificate in {}",
            files.cert.display()
        )));
    }
    // The message never quotes the key file's content.
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        Error::Config(format!(
            "cannot read a private key from {}: {e}",
            files.key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Config(format!("the certificate and key do not go together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    let acceptor = acceptor.clone();
                    conns.spawn(async move {
                        let svc = service_fn(move |req| handle(state.clone(), req));
                        let mut http = hyper::server::conn::http1::Builder::new();
                        // A client that sends its headers slowly is dropped.
                        http.timer(TokioTimer::new())
                            .header_read_timeout(Duration::from_secs(30));
                        match acceptor {
                            Some(acceptor) => {
                                let tls = tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream)).await;
                                if let Ok(Ok(tls)) = tls {
                                    let _ = http.serve_connection(TokioIo::new(tls), svc).await;
                                }
                            }
                            None => {
                                let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                            }
                        }
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = stopped.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

type Body = Full<Bytes>;

fn answer(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn refuse(state: &State, status: StatusCode, why: &str) -> Response<Body> {
    {
        let mut s = lock(&state.stats);
        match status {
            StatusCode::UNAUTHORIZED => s.bad_signature += 1,
            StatusCode::PAYLOAD_TOO_LARGE => s.too_large += 1,
            _ => s.other_refusals += 1,
        }
    }
    answer(status, json!({"error": why}))
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Error> {
    if req.uri().path() != "/" {
        return Ok(refuse(
            &state,
            StatusCode::NOT_FOUND,
            "webhooks are taken on /",
        ));
    }
    if req.method() != Method::POST {
        return Ok(refuse(&state, StatusCode::METHOD_NOT_ALLOWED, "POST only"));
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body as u64) {
        return Ok(refuse(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large",
        ));
    }
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match Limited::new(req.into_body(), state.max_body)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(refuse(
                &state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large",
            ))
        }
        Err(_) => {
            return Ok(refuse(
                &state,
                StatusCode::BAD_REQUEST,
                "body could not be read",
            ))
        }
    };
    // The signature first: nothing of an unsigned body is parsed, let alone written.
    let signed = signature.is_some_and(|sig| webhook::verify(&state.secret, &body, &sig));
    if !signed {
        return Ok(refuse(
            &state,
            StatusCode::UNAUTHORIZED,
            "missing or invalid X-Signature",
        ));
    }
    let payload = match webhook::parse(&body) {
        Ok(p) => p,
        Err(e) => return Ok(refuse(&state, StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let worker = state.clone();
    let stored = tokio::task::spawn_blocking(move || store(&worker, payload))
        .await
        .unwrap_or_else(|e| Err(Error::Config(format!("storing the result failed: {e}"))));
    match stored {
        Ok(name) => {
            lock(&state.stats).accepted += 1;
            Ok(answer(StatusCode::OK, json!({"stored": name})))
        }
        // Our failure (disk, journal): 5xx, so the sender may try again later.
        Err(e) => {
            lock(&state.stats).other_refusals += 1;
            Ok(answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": format!("could not store the result: {}", e.kind())}),
            ))
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Writes the payload through the journal; returns the file name written (or the failure's).
fn store(state: &State, payload: Payload) -> Result<String, Error> {
    let mut journal = lock(&state.journal);
    match payload {
        Payload::Inference(r) => {
            let job_id = r.inference.job.id.clone();
            let job_id = if valid_id(&job_id) {
                job_id
            } else {
                r.inference.id.clone()
            };
            if !valid_id(&job_id) {
                return Err(Error::Config("the result carries no usable job ID".into()));
            }
            let bytes = result_bytes(r.raw());
            let mut written = String::new();
            journal.record_delivery(&job_id, None, |row| {
                let name = row.map_or_else(|| job_id.clone(), |e| e.result_name.clone());
                let file = format!("{name}.json");
                write_if_changed(&state.results_dir.join(&file), &bytes)?;
                written = file.clone();
                Ok(Some(file))
            })?;
            Ok(written)
        }
        Payload::Failed(f) => {
            let job_id = f.inference_id.clone();
            if !valid_id(&job_id) {
                return Err(Error::Config(
                    "the failure notice carries no usable job ID".into(),
                ));
            }
            let message = Error::JobFailed(Box::new(
                f.error.to_api_problem(f.error.status.unwrap_or(500)),
            ))
            .to_string();
            journal.record_delivery(&job_id, Some(&message), |_| Ok(None))?;
            Ok(format!("failure of {job_id}"))
        }
    }
}

/// Atomic write, skipped when the file already holds these bytes (a redelivery).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::output::write_replacing(path, bytes)
}
