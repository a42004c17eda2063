//! `mindee-prep mock-server`: the API simulator as a command.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use mindee_prep::upload::mock::{MockConfig, MockServer, MockWebhook, RandomFaults};
use mindee_prep::upload::webhook::WebhookSecret;
use mindee_prep::upload::API_KEY_ENV;

/// Options of `mindee-prep mock-server`.
#[derive(Debug, Args)]
pub struct MockServerArgs {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one; the URL is printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A test key to require (default: $MINDEE_V2_API_KEY, the better place for it; with
    /// neither, any non-empty key is accepted).
    #[arg(long, value_name = "K")]
    pub api_key: Option<String>,
    /// Polls of a job answered `Processing` before it is done.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub processing_polls: u32,
    /// Jobs sent to this model end `Failed` (repeatable).
    #[arg(long = "fail-model-id", value_name = "UUID")]
    pub fail_model_ids: Vec<String>,
    /// Chance (0-1) that a request gets 429 Too Many Requests (Retry-After: 1).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub p429: f64,
    /// Chance (0-1) that a request gets 500; on an enqueue, half of them after creating the job.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub p500: f64,
    /// Chance (0-1) that a request's connection is dropped; on an enqueue, half of them after
    /// creating the job.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub pdrop: f64,
    /// Seed of the fault generator (the same seed draws the same faults).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Milliseconds every answer waits (slows a batch down).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// A webhook the simulator knows and delivers to, as ID=URL (repeatable). Deliveries are
    /// signed with $MINDEE_V2_WEBHOOK_SECRET.
    #[arg(long = "webhook", value_name = "ID=URL")]
    pub webhooks: Vec<String>,
    /// Deliver each webhook payload this many times (to test idempotent receivers).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub webhook_deliveries: u32,
}

fn config(args: MockServerArgs) -> Result<MockConfig, String> {
    let api_key = args
        .api_key
        .or_else(|| std::env::var(API_KEY_ENV).ok())
        .filter(|k| !k.trim().is_empty());
    let random_faults = if args.p429 + args.p500 + args.pdrop > 0.0 {
        let f = RandomFaults {
            p429: args.p429,
            p500: args.p500,
            pdrop: args.pdrop,
            seed: args.seed,
        };
        f.validate().map_err(|e| e.to_string())?;
        Some(f)
    } else {
        None
    };
    let mut webhooks = Vec::new();
    if !args.webhooks.is_empty() {
        let secret = WebhookSecret::from_env().map_err(|e| e.to_string())?;
        for w in &args.webhooks {
            let (id, url) = w
                .split_once('=')
                .filter(|(id, url)| !id.is_empty() && !url.is_empty())
                .ok_or_else(|| format!("--webhook {w:?}: expected ID=URL"))?;
            webhooks.push(MockWebhook {
                id: id.to_string(),
                url: url.to_string(),
                secret: secret.expose().to_string(),
            });
        }
    }
    Ok(MockConfig {
        api_key,
        processing_polls: args.processing_polls,
        failing_model_ids: args.fail_model_ids,
        random_faults,
        latency: Duration::from_millis(args.latency_ms),
        webhooks,
        webhook_deliveries: args.webhook_deliveries,
        ..Default::default()
    })
}

/// Runs the simulator until Ctrl-C (or SIGTERM ends the process).
pub fn run(args: MockServerArgs) -> ExitCode {
    let port = args.port;
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => return super::usage_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = match MockServer::bind(addr, config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // One line on stdout, so scripts can read the port when they asked for port 0.
        println!("listening on {}", server.url());
        let _ = std::io::stdout().flush();
        eprintln!(
            "mock Mindee API V2 ready: export MINDEE_V2_BASE_URL={} (Ctrl-C stops)",
            server.url()
        );
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}
