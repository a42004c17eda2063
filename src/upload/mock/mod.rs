//! A local simulator of the Mindee API V2, for offline work and tests (feature `mock-server`).
//!
//! It speaks the protocol the official SDKs expect: enqueue on the product routes and on the
//! legacy `/v2/inferences/enqueue` (multipart or urlencoded), job polling that stays
//! `Processing` for [`MockConfig::processing_polls`] polls and then answers **302 with a job
//! body**, results on the product and legacy routes (404 before they exist), RFC 9457 error
//! bodies (401 for a missing or wrong key, 422 for a malformed `model_id` or a file the API
//! refuses, sniffed from its content), signed webhook deliveries, and optional fault injection
//! (429 with `Retry-After`, 500, 503, non-JSON answers, dropped connections), scripted
//! ([`Fault`]) or drawn at random ([`RandomFaults`]), model search, and a record of every
//! request ([`MockServer::request_log`], also as JSON at `GET /_mock/stats`).
//!
//! It listens on plain HTTP and is meant for loopback.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mindee_prep::upload::mock::{MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::with_api_key("md_test_key")).await?;
//! println!("MINDEE_V2_BASE_URL={}", server.url());
//! // … run a client against it …
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod handlers;
mod util;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Product;

/// What the simulator does.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The key to require in `Authorization`; `None` accepts any non-empty key.
    pub api_key: Option<String>,
    /// How many polls of a job answer `Processing` before it is done (0: done at the first poll).
    pub processing_polls: u32,
    /// Jobs sent to these models end `Failed` with problem details.
    pub failing_model_ids: Vec<String>,
    /// Result bodies to serve verbatim per product, instead of the generated ones.
    pub results: HashMap<Product, Value>,
    /// Faults to inject.
    pub faults: Vec<Fault>,
    /// Known webhooks; enqueues naming others are refused with 422, as the API does.
    pub webhooks: Vec<MockWebhook>,
    /// Each webhook gets each payload this many times (redeliveries). Default: `1`.
    pub webhook_deliveries: u32,
    /// Faults drawn at random on every request, from a seeded generator.
    pub random_faults: Option<RandomFaults>,
    /// Every answer waits this long first (to slow a batch down). Default: zero.
    pub latency: Duration,
    /// The organisation's models, served by `GET /v2/search/models` (`{id, name, model_type,
    /// webhooks?}` objects). Default: two made-up models.
    pub models: Vec<Value>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            api_key: None,
            processing_polls: 1,
            failing_model_ids: Vec::new(),
            results: HashMap::new(),
            faults: Vec::new(),
            webhooks: Vec::new(),
            webhook_deliveries: 1,
            random_faults: None,
            latency: Duration::ZERO,
            models: vec![
                serde_json::json!({"id": "6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10", "name": "Invoices (simulated)", "model_type": "extraction", "webhooks": []}),
                serde_json::json!({"id": "0c9a6d55-7b1f-4c8e-9d1a-3f2b4c5d6e7f", "name": "Bank statements split (simulated)", "model_type": "split"}),
            ],
        }
    }
}

/// Faults drawn at random, independently for every request (enqueue, job, result, search).
///
/// On an enqueue, a 500 or a drop happens before the job is created or after (then the job
/// exists but its ID never reaches the client), one or the other with equal chances: that is
/// what makes them ambiguous for a client.
///
/// ```
/// use mindee_prep::upload::mock::RandomFaults;
/// let mix = RandomFaults { p429: 0.15, p500: 0.10, pdrop: 0.05, seed: 7 };
/// assert!(mix.validate().is_ok());
/// assert!(RandomFaults { p429: 0.9, ..mix }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomFaults {
    /// Chance of a 429 (with `Retry-After: 1`).
    pub p429: f64,
    /// Chance of a 500 with a problem body.
    pub p500: f64,
    /// Chance of a dropped connection (no answer).
    pub pdrop: f64,
    /// Seed of the generator: the same seed draws the same sequence of faults.
    pub seed: u64,
}

impl RandomFaults {
    /// Each chance in 0..=1 and their sum at most 1.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let all = [self.p429, self.p500, self.pdrop];
        if all.iter().any(|p| !(0.0..=1.0).contains(p)) || all.iter().sum::<f64>() > 1.0 {
            return Err(crate::Error::Config(
                "fault chances must be between 0 and 1 and add up to at most 1".into(),
            ));
        }
        Ok(())
    }
}

impl MockConfig {
    /// Defaults, requiring this key.
    pub fn with_api_key(key: impl Into<String>) -> Self {
        MockConfig {
            api_key: Some(key.into()),
            ..Default::default()
        }
    }
}

/// A webhook endpoint the simulator delivers results to, signed with `secret`.
#[derive(Debug, Clone)]
pub struct MockWebhook {
    /// The ID clients pass in `webhook_ids`.
    pub id: String,
    /// Where to POST (plain http is fine: this is a simulator).
    pub url: String,
    /// The signing secret.
    pub secret: String,
}

/// Which requests a [`Fault`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `POST …/enqueue`.
    Enqueue,
    /// `GET /v2/jobs/{id}`.
    Job,
    /// `GET …/results/{id}` and `/v2/inferences/{id}`.
    Result,
    /// `GET /v2/search/models`.
    Search,
    /// Every request.
    Any,
}

/// What a [`Fault`] does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// 429 with this `Retry-After` value (seconds or an HTTP date), or none.
    TooManyRequests(Option<String>),
    /// 500 with a problem body.
    ServerError,
    /// 503 with a problem body.
    Unavailable,
    /// 502 with an HTML body, as a proxy would send.
    BadGatewayHtml,
    /// Close the connection without answering.
    Drop,
}

/// Injects `kind` on matching requests number `skip + 1` to `skip + times`
/// (counted per fault, 1-based), or on every `every`-th matching request when `every > 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which requests.
    pub route: Route,
    /// What happens.
    pub kind: FaultKind,
    /// Matching requests let through first.
    pub skip: u32,
    /// How many matching requests get the fault (ignored when `every > 0`).
    pub times: u32,
    /// When non-zero: every `every`-th matching request gets the fault, forever.
    pub every: u32,
}

impl Fault {
    /// The next `times` requests of `route` get `kind`.
    pub fn next(route: Route, kind: FaultKind, times: u32) -> Fault {
        Fault {
            route,
            kind,
            skip: 0,
            times,
            every: 0,
        }
    }
    /// Every `every`-th request of `route` gets `kind`.
    pub fn every(route: Route, kind: FaultKind, every: u32) -> Fault {
        Fault {
            route,
            kind,
            skip: 0,
            times: 0,
            every,
        }
    }
}

/// What the simulator has seen (for tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs created.
    pub jobs_created: u32,
    /// Job polls answered (faults excluded).
    pub job_polls: u32,
    /// Results served.
    pub results_served: u32,
    /// Requests refused with 401.
    pub unauthorized: u32,
    /// Faults injected.
    pub faults_injected: u32,
    /// Webhook deliveries attempted.
    pub webhook_deliveries: u32,
    /// Jobs created whose enqueue answer was then lost to a fault (500 or drop): the client
    /// cannot know they exist.
    pub hidden_jobs: u32,
}

/// One request as seen by the simulator (for counting requests per window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRecord {
    /// When it arrived, since the simulator started.
    pub at: Duration,
    /// What it was for.
    pub route: Route,
}

/// One enqueue request as received (for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEnqueue {
    /// The route's product.
    pub product: Product,
    /// The request's `Content-Type` (without parameters).
    pub content_type: String,
    /// Text fields in order (`url` included), duplicates kept.
    pub fields: Vec<(String, String)>,
    /// The `file` part's file name.
    pub file_name: Option<String>,
    /// The `file` part's length.
    pub file_len: Option<usize>,
    /// The job created, if one was (even when its answer was then lost to a fault).
    pub job_id: Option<String>,
}

pub(crate) struct State {
    config: MockConfig,
    addr: SocketAddr,
    jobs: HashMap<String, handlers::JobState>,
    fault_hits: Vec<u32>,
    stats: Stats,
    enqueues: Vec<RecordedEnqueue>,
    rng: fastrand::Rng,
    started: Instant,
    requests: Vec<RequestRecord>,
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(s: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent-enough state for a simulator.
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running simulator. Stops when [`MockServer::shutdown`] is called or it is dropped.
pub struct MockServer {
    addr: SocketAddr,
    state: Shared,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl MockServer {
    /// Starts on `127.0.0.1` with a free port.
    pub async fn start(config: MockConfig) -> std::io::Result<MockServer> {
        MockServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts on `addr` (port 0 picks a free one).
    pub async fn bind(addr: SocketAddr, config: MockConfig) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let seed = config.random_faults.map_or(0, |f| f.seed);
        let state = Arc::new(Mutex::new(State {
            rng: fastrand::Rng::with_seed(seed),
            started: Instant::now(),
            requests: Vec::new(),
            fault_hits: vec![0; config.faults.len()],
            config,
            addr,
            jobs: HashMap::new(),
            stats: Stats::default(),
            enqueues: Vec::new(),
        }));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(handlers::serve(listener, state.clone(), stopped));
        Ok(MockServer {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give clients (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counters of what was seen.
    pub fn stats(&self) -> Stats {
        lock(&self.state).stats.clone()
    }

    /// The enqueue requests received, in order.
    pub fn enqueues(&self) -> Vec<RecordedEnqueue> {
        lock(&self.state).enqueues.clone()
    }

    /// Every request received, in order of arrival (`/_mock/` ones excluded).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        lock(&self.state).requests.clone()
    }

    /// Jobs created per file name (or URL name) sent, hidden ones included.
    pub fn jobs_per_file(&self) -> HashMap<String, u32> {
        handlers::jobs_per_file(&lock(&self.state).enqueues)
    }

    /// Changes the faults to inject from now on.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        let mut s = lock(&self.state);
        s.fault_hits = vec![0; faults.len()];
        s.config.faults = faults;
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
