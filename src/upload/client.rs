use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::key::{ApiKey, API_KEY_ENV};
use super::model::{
    InferenceResponse, Job, JobResponse, JobStatus, ModelSearchResponse, ProblemDetails, Response,
};
use super::pacing::Pacer;
use super::source::SourceKind;
use super::{EnqueueParams, PollingOptions, Product, RateLimits, RetryPolicy, Source};
use crate::{ApiProblem, Error};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api-v2.mindee.net";
/// Environment variable overriding the base URL.
pub const BASE_URL_ENV: &str = "MINDEE_V2_BASE_URL";
/// Environment variable holding the per-request timeout in seconds (default 120).
pub const TIMEOUT_ENV: &str = "MINDEE_REQUEST_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// An async client of the Mindee API V2.
///
/// Cheap to clone (the connection pool is shared). The key travels only in the
/// `Authorization` header, marked sensitive, and never appears in `Debug` or in errors.
///
/// ```no_run
/// # async fn demo() -> Result<(), mindee_prep::Error> {
/// use mindee_prep::{Client, EnqueueParams, PollingOptions, PrepareOptions, Source};
///
/// let client = Client::from_env()?; // MINDEE_V2_API_KEY, MINDEE_V2_BASE_URL, MINDEE_REQUEST_TIMEOUT
/// let prepared = mindee_prep::prepare_path("invoice.heic".as_ref(), &PrepareOptions::default())?;
/// let source = Source::prepared(prepared, "invoice.heic"); // sent as invoice.jpg if converted
/// let params = EnqueueParams::new("6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10");
/// let result = client
///     .enqueue_and_wait(&source, &params, &PollingOptions::default())
///     .await?;
/// if let Some(extraction) = result.inference.result.as_extraction() {
///     for (name, field) in extraction.fields.iter() {
///         println!("{name}: {:?}", field.value());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
    retry: RetryPolicy,
    timeout: Duration,
    limits: RateLimits,
    enqueue_pacer: Pacer,
    poll_pacer: Pacer,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("api_key", &"ApiKey(***)")
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

/// Builds a [`Client`]; [`ClientBuilder::from_env`] starts from the environment.
///
/// ```
/// use std::time::Duration;
/// use mindee_prep::{ApiKey, Client, RetryPolicy};
/// let client = Client::builder()
///     .api_key(ApiKey::new("md_example").unwrap())
///     .base_url("http://127.0.0.1:8080") // plain http is allowed only for loopback
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default())
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("md_example"));
/// assert!(Client::builder()
///     .api_key(ApiKey::new("md_example").unwrap())
///     .base_url("http://api.example.com")
///     .build()
///     .is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    limits: RateLimits,
}

impl ClientBuilder {
    /// Reads `MINDEE_V2_API_KEY` (required), `MINDEE_V2_BASE_URL` and `MINDEE_REQUEST_TIMEOUT`.
    pub fn from_env() -> Result<Self, Error> {
        let mut b = ClientBuilder {
            api_key: Some(ApiKey::from_env()?),
            ..Default::default()
        };
        if let Ok(url) = std::env::var(BASE_URL_ENV) {
            if !url.trim().is_empty() {
                b.base_url = Some(url);
            }
        }
        if let Ok(t) = std::env::var(TIMEOUT_ENV) {
            let secs: f64 = t.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "{TIMEOUT_ENV} must be a number of seconds, got {t:?}"
                ))
            })?;
            b.timeout = Some(parse_timeout(secs)?);
        }
        Ok(b)
    }

    /// Sets the key.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Sets the base URL (default `https://api-v2.mindee.net`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the per-request timeout (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets how failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the request limits the client keeps under (default: the API's 200 enqueues and
    /// 1,200 GETs a minute). Clones of the client share them.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks the settings and builds the client. No request is sent.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.ok_or_else(|| {
            Error::Config(format!(
                "no API key: set {API_KEY_ENV} to a key from the Mindee platform"
            ))
        })?;
        let base = check_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::Config("the request timeout must be positive".into()));
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::Config("max_attempts must be at least 1".into()));
        }
        self.limits.validate()?;
        let mut auth = HeaderValue::from_str(key.expose()).map_err(|_| {
            Error::Config(format!(
                "the API key in {API_KEY_ENV} is not a valid header value"
            ))
        })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            // The API answers 302 when a job is done; the SDKs read its JSON body instead of
            // following it, and following would also carry the key to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("mindee-prep/", env!("CARGO_PKG_VERSION"), " rust"))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                retry: self.retry,
                timeout,
                limits: self.limits,
                enqueue_pacer: Pacer::new(self.limits.enqueues, self.limits.window),
                poll_pacer: Pacer::new(self.limits.polls, self.limits.window),
            }),
        })
    }
}

fn parse_timeout(secs: f64) -> Result<Duration, Error> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err(Error::Config(format!(
            "{TIMEOUT_ENV} must be between 0 and 86400 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// TLS with rustls and the *ring* provider, passed to reqwest explicitly.
///
/// Why: reqwest's default rustls provider is aws-lc-rs, whose `aws-lc-sys` is a large C/CMake
/// build (minutes on a 2-core machine, and cmake/nasm on Windows); ring is small and enough
/// for a TLS client. Passing the config (instead of installing a process-wide default
/// provider) leaves an application free to install its own provider for its other clients.
/// Certificates are checked by the platform verifier (the OS trust store).
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_platform_verifier())
        .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth();
    // reqwest leaves ALPN to a preconfigured config; offer HTTP/2 first.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Parses the base URL and refuses plain http except on loopback, so a key never travels in
/// clear text over a network.
fn check_base_url(raw: &str) -> Result<Url, Error> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed)
        .map_err(|e| Error::Config(format!("invalid base URL {trimmed:?}: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "the base URL must not carry credentials; the key goes in MINDEE_V2_API_KEY".into(),
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::Config(format!(
                "refusing plain http:// for {}: the API key would travel in clear text; use https:// (http is allowed only for 127.0.0.1, ::1 and localhost)",
                url.host_str().unwrap_or("?")
            )))
        }
        other => {
            return Err(Error::Config(format!(
                "unsupported base URL scheme {other:?}; use https://"
            )))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(
            "the base URL must not have a query or fragment".into(),
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Which retry rules and which rate limit apply to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Safe to repeat.
    Get,
    /// Creates a job: repeat only when it surely did not.
    #[allow(dead_code)]
    Enqueue,
}

/// What happened to one enqueue request, told to the observer of
/// [`Client::enqueue_observed`] (a journal writes each down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnqueueEvent {
    /// Request number `attempt` (1-based) is about to leave.
    Sending {
        /// 1 for the first request.
        attempt: u32,
    },
    /// The last request surely created no job (429, 503, a 4xx, no connection).
    CreatedNothing,
    /// The last request's outcome is unknown: a job may exist (500, 502, 504, a connection
    /// dropped after sending, a timeout).
    Unknown,
}

/// The end of [`Client::enqueue_observed`].
#[derive(Debug)]
#[non_exhaustive]
pub struct EnqueueOutcome {
    /// The job, or the last error.
    pub job: Result<Job, Error>,
    /// Requests sent.
    pub attempts: u32,
    /// Requests whose outcome is unknown (each may have created a job).
    pub unknown_outcomes: u32,
}

impl EnqueueOutcome {
    /// More than one request may have created a job: the API may hold two (two bills).
    pub fn possible_duplicate(&self) -> bool {
        self.unknown_outcomes + u32::from(self.job.is_ok()) >= 2
    }

    /// The enqueue failed, but its last request may still have created a job.
    pub fn maybe_enqueued(&self) -> bool {
        self.job.is_err() && self.unknown_outcomes > 0
    }
}

fn enqueue_request(
    http: &reqwest::Client,
    url: &Url,
    fields: &[(&'static str, String)],
    source: &Source,
) -> reqwest::RequestBuilder {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(*k, v.clone());
    }
    let form = match &source.kind {
        SourceKind::File {
            bytes,
            file_name,
            format,
        } => {
            let part = || {
                reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
                    .file_name(file_name.clone())
            };
            let part = part()
                .mime_str(format.mime_type())
                .unwrap_or_else(|_| part());
            form.part("file", part)
        }
        SourceKind::Url(u) => form.text("url", u.clone()),
    };
    http.post(url.clone()).multipart(form)
}

/// A response read to the end.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Client {
    /// Starts a builder with nothing set.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `MINDEE_V2_API_KEY`, `MINDEE_V2_BASE_URL` and
    /// `MINDEE_REQUEST_TIMEOUT`. A missing key is a [`Error::Config`], before any request.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Sends a file or URL for processing: `POST /v2/products/{product}/enqueue`.
    ///
    /// Returns the job at once (status `Processing`). With webhook IDs in `params`, the result
    /// is delivered to those webhooks; see [`webhook`](crate::upload::webhook).
    ///
    /// The request is repeated only when it surely created no job (429, 503, no connection):
    /// at most one job. [`Client::enqueue_observed`] can also ride out the ambiguous failures.
    pub async fn enqueue(&self, source: &Source, params: &EnqueueParams) -> Result<Job, Error> {
        self.enqueue_observed(source, params, 0, &mut |_| Ok(()))
            .await
            .job
    }

    /// Enqueues like [`Client::enqueue`], telling `observer` about each request (a journal
    /// records them), and retrying up to `unknown_retries` times after a failure whose outcome
    /// is unknown — a 500, 502 or 504, a connection dropped after the request left, a timeout —
    /// when a job may exist although no ID came back. Each such retry may create a second job:
    /// [`EnqueueOutcome::possible_duplicate`] says so.
    ///
    /// 429 (after `Retry-After`), 503 and connections never established are retried within
    /// [`RetryPolicy::max_attempts`] whatever `unknown_retries` is: they created nothing.
    /// An error from `observer` stops everything before the request leaves.
    ///
    /// ```no_run
    /// # async fn demo(client: mindee_prep::Client, source: mindee_prep::Source) {
    /// use mindee_prep::upload::EnqueueEvent;
    /// let params = mindee_prep::EnqueueParams::new("6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10");
    /// let outcome = client
    ///     .enqueue_observed(&source, &params, 3, &mut |event| {
    ///         if let EnqueueEvent::Sending { attempt } = event {
    ///             println!("sending request {attempt}"); // a journal writes this down first
    ///         }
    ///         Ok(())
    ///     })
    ///     .await;
    /// if outcome.possible_duplicate() {
    ///     eprintln!("the API may hold two jobs for this file");
    /// }
    /// # }
    /// ```
    pub async fn enqueue_observed(
        &self,
        source: &Source,
        params: &EnqueueParams,
        unknown_retries: u32,
        observer: &mut (dyn FnMut(EnqueueEvent) -> Result<(), Error> + Send),
    ) -> EnqueueOutcome {
        let mut outcome = EnqueueOutcome {
            job: Err(Error::Config("no request sent".into())),
            attempts: 0,
            unknown_outcomes: 0,
        };
        if let Err(e) = params.validate() {
            outcome.job = Err(e);
            return outcome;
        }
        let url = self.endpoint(&format!("/v2/products/{}/enqueue", params.product.slug()));
        let fields = params.form_fields();
        let policy = &self.inner.retry;
        loop {
            if let Err(e) = observer(EnqueueEvent::Sending {
                attempt: outcome.attempts + 1,
            }) {
                outcome.job = Err(e);
                return outcome;
            }
            outcome.attempts += 1;
            let attempt = outcome.attempts;
            let last = attempt >= policy.max_attempts;
            let slot = self.inner.enqueue_pacer.acquire().await;
            let req = enqueue_request(&self.inner.http, &url, &fields, source)
                .header(AUTHORIZATION, self.inner.auth.clone());
            let sent = send(req).await;
            drop(slot);
            let (wait, error) = match sent {
                Ok(raw) if raw.status.is_success() => {
                    let job = parse_json::<JobResponse>(&raw, "a job").map(|r| r.job);
                    outcome.job = match job {
                        Ok(job) => match &job.error {
                            Some(problem) => Err(Error::JobFailed(Box::new(
                                problem.to_api_problem(raw.status.as_u16()),
                            ))),
                            None => Ok(job),
                        },
                        Err(e) => {
                            // A 2xx we cannot read: a job probably exists.
                            outcome.unknown_outcomes += 1;
                            let _ = observer(EnqueueEvent::Unknown);
                            Err(e)
                        }
                    };
                    return outcome;
                }
                Ok(raw) => {
                    let s = raw.status;
                    let nothing_created = s == StatusCode::TOO_MANY_REQUESTS
                        || s == StatusCode::SERVICE_UNAVAILABLE
                        || !s.is_server_error();
                    let retry = if nothing_created {
                        let _ = observer(EnqueueEvent::CreatedNothing);
                        s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        outcome.unknown_outcomes += 1;
                        let _ = observer(EnqueueEvent::Unknown);
                        outcome.unknown_outcomes <= unknown_retries
                    };
                    if !retry || last {
                        outcome.job = if s == StatusCode::TOO_MANY_REQUESTS {
                            Err(Error::RateLimited { attempts: attempt })
                        } else {
                            Err(self.error_from(&raw))
                        };
                        return outcome;
                    }
                    let asked = raw
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| policy.retry_after(v, SystemTime::now()));
                    (asked.unwrap_or_else(|| policy.backoff(attempt)), None)
                }
                Err(e) => {
                    // No connection: nothing left. Anything later: the request may have arrived.
                    let retry = if e.is_connect() {
                        let _ = observer(EnqueueEvent::CreatedNothing);
                        true
                    } else {
                        outcome.unknown_outcomes += 1;
                        let _ = observer(EnqueueEvent::Unknown);
                        outcome.unknown_outcomes <= unknown_retries
                    };
                    (policy.backoff(attempt), (!retry || last).then_some(e))
                }
            };
            if let Some(e) = error {
                outcome.job = Err(self.map_transport_error(&e, attempt));
                return outcome;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads a job: `GET /v2/jobs/{job_id}`.
    ///
    /// The API answers 302 once the job is done; the redirect is not followed, its JSON body is
    /// read instead (and `result_url` filled from `Location` if the body lacks it).
    pub async fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        check_id(job_id)?;
        let url = self.endpoint(&format!("/v2/jobs/{job_id}"));
        let raw = self
            .execute(Kind::Get, || self.inner.http.get(url.clone()))
            .await?;
        let raw = self.check(raw, |s| s.is_success() || s.is_redirection())?;
        let mut job = parse_json::<JobResponse>(&raw, "a job")?.job;
        if raw.status.is_redirection() {
            if job.result_url.is_none() {
                job.result_url = raw
                    .headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
            }
            // A 302 means processed, whatever an older body says.
            if job.status == JobStatus::Processing {
                job.status = JobStatus::Processed;
            }
        }
        Ok(job)
    }

    /// Fetches a result: `GET /v2/products/{product}/results/{inference_id}`.
    ///
    /// The API answers 404 until the result exists.
    pub async fn get_result(
        &self,
        product: Product,
        inference_id: &str,
    ) -> Result<Response<InferenceResponse>, Error> {
        check_id(inference_id)?;
        let url = self.endpoint(&format!(
            "/v2/products/{}/results/{inference_id}",
            product.slug()
        ));
        self.fetch_result(url).await
    }

    /// Enqueues, polls until the job is done, and returns its result.
    ///
    /// Polling follows `polling` (see [`PollingOptions`]); a failed job is
    /// [`Error::JobFailed`] with the server's problem details, and running out of polls is
    /// [`Error::Timeout`]. Cancel-safe: dropping the future stops everything.
    pub async fn enqueue_and_wait(
        &self,
        source: &Source,
        params: &EnqueueParams,
        polling: &PollingOptions,
    ) -> Result<Response<InferenceResponse>, Error> {
        polling.validate()?;
        let job = self.enqueue(source, params).await?;
        self.wait_for_result(&job.id, params.product, polling).await
    }

    /// Polls an enqueued job until it is done, then fetches its result.
    pub async fn wait_for_result(
        &self,
        job_id: &str,
        product: Product,
        polling: &PollingOptions,
    ) -> Result<Response<InferenceResponse>, Error> {
        polling.validate()?;
        check_id(job_id)?;
        tokio::time::sleep(polling.initial_delay).await;
        for n in 0..polling.max_polls {
            if n > 0 {
                tokio::time::sleep(polling.interval).await;
            }
            let job = self.get_job(job_id).await?;
            if job.status == JobStatus::Failed || job.error.is_some() {
                return Err(job_failed(&job));
            }
            if job.status == JobStatus::Processed {
                return self.result_of(&job, product).await;
            }
        }
        let waited = polling.initial_delay + polling.interval * polling.max_polls.saturating_sub(1);
        Err(Error::Timeout(format!(
            "job {job_id} was still processing after {} polls ({} s); raise max_polls or fetch it later with get_result",
            polling.max_polls,
            waited.as_secs()
        )))
    }

    /// Fetches the result of a processed job: its `result_url`, or (as the Java SDK does) the
    /// product's result route with the job ID, which is also the inference ID.
    pub async fn result_of(
        &self,
        job: &Job,
        product: Product,
    ) -> Result<Response<InferenceResponse>, Error> {
        let url = match &job.result_url {
            Some(u) => self.resolve(u)?,
            None => {
                check_id(&job.id)?;
                self.endpoint(&format!(
                    "/v2/products/{}/results/{}",
                    product.slug(),
                    job.id
                ))
            }
        };
        self.fetch_result(url).await
    }

    /// Lists the organisation's models: `GET /v2/search/models`.
    pub async fn search_models(
        &self,
        name: Option<&str>,
        model_type: Option<&str>,
    ) -> Result<Response<ModelSearchResponse>, Error> {
        let mut url = self.endpoint("/v2/search/models");
        {
            let mut q = url.query_pairs_mut();
            if let Some(n) = name {
                q.append_pair("name", n);
            }
            if let Some(t) = model_type {
                q.append_pair("model_type", t);
            }
        }
        let raw = self
            .execute(Kind::Get, || self.inner.http.get(url.clone()))
            .await?;
        let raw = self.check(raw, |s| s.is_success())?;
        Response::from_slice(&raw.body).map_err(|e| unexpected(&raw, "a model search", &e))
    }

    async fn fetch_result(&self, url: Url) -> Result<Response<InferenceResponse>, Error> {
        let raw = self
            .execute(Kind::Get, || self.inner.http.get(url.clone()))
            .await?;
        let raw = self.check(raw, |s| s.is_success())?;
        Response::from_slice(&raw.body).map_err(|e| unexpected(&raw, "an inference", &e))
    }

    /// `base` + `path`, keeping any path prefix of the base URL.
    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.inner.base.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    /// A URL the server gave (result_url): used as is on our own origin; on another origin
    /// only its path is kept, so the key only ever goes to the configured host.
    fn resolve(&self, given: &str) -> Result<Url, Error> {
        let url = Url::parse(given)
            .or_else(|_| self.inner.base.join(given))
            .map_err(|_| {
                Error::Api(Box::new(ApiProblem {
                    status: 200,
                    detail: Some(format!("the API gave an unusable result URL {given:?}")),
                    ..Default::default()
                }))
            })?;
        if url.origin() == self.inner.base.origin() {
            return Ok(url);
        }
        let mut out = self.endpoint(url.path());
        out.set_query(url.query());
        Ok(out)
    }

    /// Sends a GET with its retry rules (any 429, 5xx or transport error is retried: a GET
    /// changes nothing) and reads the whole body. Every attempt waits for a slot of the poll
    /// limit.
    async fn execute<F>(&self, kind: Kind, build: F) -> Result<Raw, Error>
    where
        F: Fn() -> reqwest::RequestBuilder,
    {
        let policy = &self.inner.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= policy.max_attempts;
            let slot = match kind {
                Kind::Get => self.inner.poll_pacer.acquire().await,
                Kind::Enqueue => self.inner.enqueue_pacer.acquire().await,
            };
            let req = build().header(AUTHORIZATION, self.inner.auth.clone());
            let sent = send(req).await;
            drop(slot);
            match sent {
                Ok(raw) => {
                    let s = raw.status;
                    let retryable = s == StatusCode::TOO_MANY_REQUESTS
                        || s == StatusCode::SERVICE_UNAVAILABLE
                        || (kind == Kind::Get && s.is_server_error());
                    if !retryable {
                        return Ok(raw);
                    }
                    if last {
                        if s == StatusCode::TOO_MANY_REQUESTS {
                            return Err(Error::RateLimited { attempts: attempt });
                        }
                        return Ok(raw);
                    }
                    let asked = raw
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| policy.retry_after(v, SystemTime::now()));
                    tokio::time::sleep(asked.unwrap_or_else(|| policy.backoff(attempt))).await;
                }
                Err(e) => {
                    // A connect error means no byte of the request left: no job was created.
                    let retryable = match kind {
                        Kind::Get => true,
                        Kind::Enqueue => e.is_connect(),
                    };
                    if !retryable || last {
                        return Err(self.map_transport_error(&e, attempt));
                    }
                    tokio::time::sleep(policy.backoff(attempt)).await;
                }
            }
        }
    }

    /// Maps a final status that is not `ok` to an error.
    fn check(&self, raw: Raw, ok: impl Fn(StatusCode) -> bool) -> Result<Raw, Error> {
        if ok(raw.status) {
            return Ok(raw);
        }
        Err(self.error_from(&raw))
    }

    /// The error an unsuccessful answer stands for.
    fn error_from(&self, raw: &Raw) -> Error {
        let problem = problem_from(raw);
        if raw.status == StatusCode::UNAUTHORIZED {
            return Error::Unauthorized {
                detail: problem
                    .detail
                    .or(problem.title)
                    .unwrap_or_else(|| "no detail given".into()),
                env_var: API_KEY_ENV,
            };
        }
        Error::Api(Box::new(problem))
    }

    fn map_transport_error(&self, e: &reqwest::Error, attempts: u32) -> Error {
        let what = e
            .url()
            .map(|u| format!("request to {}", u.path()))
            .unwrap_or_else(|| "request".to_string());
        let tries = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        if e.is_timeout() {
            return Error::Timeout(format!(
                "{} got no answer within {} s{tries}",
                what,
                self.inner.timeout.as_secs_f64()
            ));
        }
        Error::Network(format!("{}: {}{tries}", what, root_cause(e)))
    }
}

async fn send(req: reqwest::RequestBuilder) -> Result<Raw, reqwest::Error> {
    let resp = req.send().await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    Ok(Raw {
        status,
        headers,
        body,
    })
}

/// The innermost cause, which says what actually happened ("connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    let mut msg = cur.to_string();
    while let Some(next) = cur.source() {
        let m = next.to_string();
        if !m.is_empty() {
            msg = m;
        }
        cur = next;
    }
    msg
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::Config(format!("invalid job or inference ID {id:?}")));
    }
    Ok(())
}

pub(crate) fn job_failed(job: &Job) -> Error {
    let problem = match &job.error {
        Some(p) => p.to_api_problem(500),
        None => ApiProblem {
            status: 500,
            detail: Some(format!("job {} failed without details", job.id)),
            ..Default::default()
        },
    };
    Error::JobFailed(Box::new(problem))
}

/// An RFC 9457 body, or the status and a short excerpt of whatever else came back.
fn problem_from(raw: &Raw) -> ApiProblem {
    let status = raw.status.as_u16();
    if let Ok(p) = serde_json::from_slice::<ProblemDetails>(&raw.body) {
        if p.detail.is_some() || p.title.is_some() || p.code.is_some() {
            let mut problem = p.to_api_problem(status);
            // The status line is what happened on the wire.
            problem.status = status;
            return problem;
        }
    }
    ApiProblem {
        status,
        title: raw.status.canonical_reason().map(str::to_owned),
        detail: excerpt(&raw.body),
        ..Default::default()
    }
}

fn excerpt(body: &[u8]) -> Option<String> {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }
    let mut out: String = collapsed.chars().take(MAX).collect();
    if collapsed.chars().count() > MAX {
        out.push('…');
    }
    Some(out)
}

fn parse_json<T: serde::de::DeserializeOwned>(raw: &Raw, what: &str) -> Result<T, Error> {
    serde_json::from_slice(&raw.body).map_err(|e| unexpected(raw, what, &e))
}

fn unexpected(raw: &Raw, what: &str, e: &serde_json::Error) -> Error {
    Error::Api(Box::new(ApiProblem {
        status: raw.status.as_u16(),
        title: Some(format!("unexpected answer (expected {what})")),
        detail: Some(match excerpt(&raw.body) {
            Some(x) => format!("{e}; body: {x}"),
            None => format!("{e}; empty body"),
        }),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert!(check_base_url("https://api-v2.mindee.net/").is_ok());
        for ok in [
            "http://127.0.0.1:1",
            "http://127.8.9.1",
            "http://[::1]:80",
            "http://LOCALHOST:3",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://x",
            "https://u:p@h",
            "nope",
        ] {
            assert!(
                matches!(check_base_url(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn https_client_builds_with_ring() {
        let c = Client::builder()
            .api_key(ApiKey::new("k").unwrap())
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "https://api-v2.mindee.net/");
    }

    #[test]
    fn result_urls_stay_on_our_host() {
        let c = Client::builder()
            .api_key(ApiKey::new("k").unwrap())
            .base_url("http://127.0.0.1:9/prefix/")
            .build()
            .unwrap();
        let u = c
            .resolve("https://api-v2.mindee.net/v2/inferences/abc?x=1")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/prefix/v2/inferences/abc?x=1"
        );
        let u = c
            .resolve("http://127.0.0.1:9/v2/products/ocr/results/a")
            .unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/v2/products/ocr/results/a");
        assert_eq!(
            c.endpoint("/v2/jobs/x").as_str(),
            "http://127.0.0.1:9/prefix/v2/jobs/x"
        );
    }

    #[test]
    fn excerpts_are_short() {
        let long = "<html>".repeat(100);
        let e = excerpt(long.as_bytes()).unwrap();
        assert!(e.chars().count() <= 201);
        assert_eq!(excerpt(b"  \n "), None);
    }
}
