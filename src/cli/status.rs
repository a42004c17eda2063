//! `mindee-prep status [--journal PATH | RESULTS_DIR] [--json]`: where each document of a batch
//! stands, read from the job journal (works while a run is going on).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mindee_prep::upload::journal::{self, Access, Journal, State};
use serde_json::json;

/// Options of `mindee-prep status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The results folder of the batch (its journal is RESULTS_DIR/.mindee-prep/journal.sqlite).
    #[arg(value_name = "RESULTS_DIR", required_unless_present = "journal")]
    pub results_dir: Option<PathBuf>,
    /// The journal to read instead.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// One JSON object per file on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Prints a line per file and the counts per state (on stderr); exit status 0 when every file
/// is done, 1 otherwise, 2 when the journal is missing or damaged.
pub fn run(args: StatusArgs) -> ExitCode {
    let path = match (&args.journal, &args.results_dir) {
        (Some(j), _) => j.clone(),
        (None, Some(dir)) => journal::default_path(dir),
        (None, None) => return super::usage_error("give RESULTS_DIR or --journal PATH"),
    };
    let entries = match Journal::open(&path, Access::ReadOnly).and_then(|j| {
        let entries = j.entries()?;
        let deliveries = j.unmatched_deliveries()?;
        Ok((entries, deliveries))
    }) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (entries, deliveries) = entries;
    let results_dir = args
        .results_dir
        .clone()
        .or_else(|| path.parent().and_then(|p| p.parent()).map(PathBuf::from))
        .unwrap_or_default();
    let mut counts: BTreeMap<usize, (State, usize)> = BTreeMap::new();
    let mut out = std::io::stdout().lock();
    if !args.json {
        let _ = writeln!(
            out,
            "{:<10}  {:<3}  {:<36}  INPUT -> RESULT",
            "STATE", "DUP", "JOB"
        );
    }
    for e in &entries {
        let pos = State::ALL.iter().position(|s| *s == e.state).unwrap_or(0);
        counts.entry(pos).or_insert((e.state, 0)).1 += 1;
        let result = e.result_path(&results_dir);
        if args.json {
            let mut line = serde_json::to_value(e).unwrap_or_default();
            line["output"] = json!(result.display().to_string());
            let _ = writeln!(out, "{line}");
        } else {
            let detail = match (&e.error_kind, &e.error) {
                (Some(k), Some(m)) => format!("  ({k}: {m})"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<10}  {:<3}  {:<36}  {} -> {}{detail}",
                e.state.as_str(),
                if e.possible_duplicate { "yes" } else { "" },
                e.job_id.as_deref().unwrap_or("-"),
                e.input,
                result.display()
            );
        }
    }
    for d in &deliveries {
        if args.json {
            let _ = writeln!(out, "{}", json!({"unmatched_delivery": d}));
        } else {
            let _ = writeln!(
                out,
                "{:<10}  {:<3}  {:<36}  (webhook for a job this journal does not know) -> {}",
                "delivered",
                "",
                d.job_id,
                d.file_name.as_deref().unwrap_or("(failure)")
            );
        }
    }
    let summary: Vec<String> = counts
        .values()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let dups = entries.iter().filter(|e| e.possible_duplicate).count();
    eprintln!(
        "{} file(s): {}{}",
        entries.len(),
        if summary.is_empty() {
            "none".to_string()
        } else {
            summary.join(", ")
        },
        if dups > 0 {
            format!("; {dups} possible duplicate(s)")
        } else {
            String::new()
        }
    );
    if entries.iter().all(|e| e.state == State::Done) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
