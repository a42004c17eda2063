//! `mindee-prep mock-server`: the API simulator as a command.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use mindee_prep::upload::mock::{MockConfig, MockServer};
use mindee_prep::upload::API_KEY_ENV;

/// Options of `mindee-prep mock-server`.
#[derive(Debug, Args)]
pub struct MockServerArgs {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one; the URL is printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The API key to require (default: $MINDEE_V2_API_KEY; with neither, any non-empty key
    /// is accepted).
    #[arg(long, value_name = "K")]
    pub api_key: Option<String>,
    /// Polls of a job answered `Processing` before it is done.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub processing_polls: u32,
    /// Jobs sent to this model end `Failed` (repeatable).
    #[arg(long = "fail-model-id", value_name = "UUID")]
    pub fail_model_ids: Vec<String>,
}

/// Runs the simulator until Ctrl-C (or SIGTERM ends the process).
pub fn run(args: MockServerArgs) -> ExitCode {
    let api_key = args
        .api_key
        .or_else(|| std::env::var(API_KEY_ENV).ok())
        .filter(|k| !k.trim().is_empty());
    let config = MockConfig {
        api_key,
        processing_polls: args.processing_polls,
        failing_model_ids: args.fail_model_ids,
        ..Default::default()
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
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
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
