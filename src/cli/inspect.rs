//! `mindee-prep inspect FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use mindee_prep::{detect, expand_inputs};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files or directories (recursed).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

pub fn run(args: InspectArgs) -> ExitCode {
    let files = match expand_inputs(&args.inputs) {
        Ok(files) => files,
        Err(e) => return super::usage_error(e),
    };
    let mut refused = 0;
    for file in &files {
        let line = inspect_one(file);
        if line["status"] != "ok" {
            refused += 1;
        }
        println!("{line}");
    }
    super::batch_status(refused)
}

fn inspect_one(file: &PathBuf) -> Value {
    let input = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            return super::table::rejected_json(
                &input,
                &mindee_prep::Error::Io {
                    context: input.clone(),
                    source: e,
                },
            )
        }
    };
    match detect(&bytes) {
        Ok(found) => {
            let mut line = json!({
                "input": input,
                "status": "ok",
                "bytes": bytes.len(),
            });
            if let (Value::Object(map), Ok(Value::Object(facts))) =
                (&mut line, serde_json::to_value(&found))
            {
                map.extend(facts);
            }
            if let Some(refusal) = found.refusal() {
                line["status"] = "rejected".into();
                line["error"] = super::table::error_json(&refusal);
            }
            line
        }
        Err(e) => super::table::rejected_json(&input, &e),
    }
}
