//! `mindee-prep webhook-server -o RESULTS_DIR --port P`: receives the API's signed webhook
//! deliveries and writes each result where `upload` would have.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mindee_prep::upload::receiver::{ReceiverConfig, TlsFiles, WebhookReceiver};
use mindee_prep::upload::webhook::WebhookSecret;
use mindee_prep::Error;

/// Options of `mindee-prep webhook-server`. The signing secret is read from
/// MINDEE_V2_WEBHOOK_SECRET only.
#[derive(Debug, Args)]
pub struct WebhookServerArgs {
    /// Where results are written (as upload names them, or <job_id>.json for unknown jobs).
    #[arg(short = 'o', long = "output", value_name = "RESULTS_DIR")]
    pub results_dir: PathBuf,
    /// The job journal [default: RESULTS_DIR/.mindee-prep/journal.sqlite].
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Port to listen on (0 picks a free one; the URL is printed on stdout).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on: 127.0.0.1 behind a reverse proxy, 0.0.0.0 when serving TLS itself.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub host: IpAddr,
    /// TLS certificate chain (PEM); with --tls-key, serves https.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Bodies larger than this many MiB are refused with 413.
    #[arg(long, default_value_t = 64, value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_body_mib: u32,
}

/// Runs until Ctrl-C or SIGTERM; exit status 2 when it cannot start (no secret, bad TLS files,
/// damaged journal, port taken).
pub fn run(args: WebhookServerArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: WebhookServerArgs) -> Result<ExitCode, Error> {
    let secret = WebhookSecret::from_env()?;
    let mut config = ReceiverConfig::new(&args.results_dir, secret);
    config.journal = args.journal.clone();
    config.max_body_bytes = args.max_body_mib as usize * 1024 * 1024;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    let runtime = super::upload::runtime()?;
    runtime.block_on(async move {
        let receiver = WebhookReceiver::bind(SocketAddr::new(args.host, args.port), config).await?;
        println!("listening on {}", receiver.url());
        let _ = std::io::stdout().flush();
        eprintln!(
            "webhook receiver ready: results go to {} (Ctrl-C stops)",
            args.results_dir.display()
        );
        shutdown_signal().await;
        let stats = receiver.stats();
        receiver.shutdown().await;
        eprintln!(
            "{} stored, {} refused for their signature, {} too large, {} other refusals",
            stats.accepted, stats.bad_signature, stats.too_large, stats.other_refusals
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C, or SIGTERM (what service managers and `kill` send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
