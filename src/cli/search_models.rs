//! `mindee-prep search-models [--name N] [--model-type T]`: the organisation's models, as the
//! official SDK's command line lists them.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use mindee_prep::Error;

use super::upload::PacingFlags;

/// Options of `mindee-prep search-models`.
#[derive(Debug, Args)]
pub struct SearchModelsArgs {
    /// Only models whose name contains this.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Only models of this type (extraction, split, crop, ocr, classification).
    #[arg(long, value_name = "T")]
    pub model_type: Option<String>,
    /// The API's JSON answer on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Exit status 0 on an answer (even an empty list), 1 when the API refused, 2 when nothing was
/// sent (no key).
pub fn run(args: SearchModelsArgs) -> ExitCode {
    let pacing = PacingFlags {
        max_enqueues_per_minute: 200,
        max_polls_per_minute: 1200,
    };
    let client = match super::upload::client(&pacing) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match super::upload::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let answer =
        runtime.block_on(client.search_models(args.name.as_deref(), args.model_type.as_deref()));
    match answer {
        Ok(r) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                let _ = writeln!(out, "{}", r.raw());
            } else {
                print(&mut out, &r);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                Error::Config(_) => 2,
                _ => 1,
            })
        }
    }
}

fn print(
    out: &mut impl Write,
    r: &mindee_prep::upload::Response<mindee_prep::upload::model::ModelSearchResponse>,
) {
    let models = &r.typed().models;
    let w_name = models
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let _ = writeln!(
        out,
        "{:<36}  {:<14}  {:<w_name$}  WEBHOOKS",
        "ID", "TYPE", "NAME"
    );
    for m in models {
        let hooks: Vec<String> = m
            .webhooks
            .iter()
            .flatten()
            .map(|w| format!("{} ({})", w.id, w.name))
            .collect();
        let _ = writeln!(
            out,
            "{:<36}  {:<14}  {:<w_name$}  {}",
            m.id,
            m.model_type,
            m.name,
            if hooks.is_empty() {
                "-".into()
            } else {
                hooks.join(", ")
            }
        );
    }
    eprintln!("{} model(s)", models.len());
}
