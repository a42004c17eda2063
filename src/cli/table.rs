//! Output for people (an aligned table) and for scripts (JSON lines).

use std::path::Path;

use serde_json::{json, Value};

use mindee_prep::{Error, Prepared};

pub fn error_json(error: &Error) -> Value {
    json!({ "kind": error.kind().as_str(), "message": error.to_string() })
}

pub fn rejected_json(input: &str, error: &Error) -> Value {
    let mut line = json!({ "input": input, "status": "rejected" });
    if let Some(format) = error.format_name() {
        line["format"] = format.into();
    }
    line["error"] = error_json(error);
    line
}

pub fn prepared_json(input: &str, prepared: &Prepared, output: &Path, millis: u64) -> Value {
    let mut line = json!({ "input": input, "status": "ok" });
    if let (Value::Object(map), Ok(Value::Object(report))) =
        (&mut line, serde_json::to_value(prepared.report()))
    {
        map.extend(report);
    }
    line["output"] = output.display().to_string().into();
    line["millis"] = millis.into();
    line
}

/// One row of the human table.
pub struct Row {
    pub input: String,
    pub status: String,
    pub formats: String,
    pub size: String,
    pub bytes: String,
    pub millis: String,
    pub note: String,
}

impl Row {
    pub fn from_json(line: &Value) -> Row {
        let s = |key: &str| {
            line.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let n = |key: &str| line.get(key).and_then(Value::as_u64).unwrap_or(0);
        if line["status"] == "ok" {
            Row {
                input: s("input"),
                status: s("action"),
                formats: format!("{} → {}", s("format"), s("output_format")),
                size: match (n("width"), n("out_width")) {
                    (0, _) => format!("{} pages", n("pages")),
                    _ => format!(
                        "{}×{} → {}×{}",
                        n("width"),
                        n("height"),
                        n("out_width"),
                        n("out_height")
                    ),
                },
                bytes: format!(
                    "{} → {}",
                    human_bytes(n("bytes_in")),
                    human_bytes(n("bytes_out"))
                ),
                millis: format!("{} ms", n("millis")),
                note: s("output"),
            }
        } else {
            Row {
                input: s("input"),
                status: "REJECTED".into(),
                formats: s("format"),
                size: String::new(),
                bytes: String::new(),
                millis: String::new(),
                note: format!(
                    "{}: {}",
                    line["error"]["kind"].as_str().unwrap_or(""),
                    line["error"]["message"].as_str().unwrap_or("")
                ),
            }
        }
    }
}

pub fn print_table(rows: &[Row]) {
    let header = Row {
        input: "INPUT".into(),
        status: "ACTION".into(),
        formats: "FORMAT".into(),
        size: "SIZE".into(),
        bytes: "BYTES".into(),
        millis: "TIME".into(),
        note: "OUTPUT / REASON".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let widths = [
        width(|r| &r.input),
        width(|r| &r.status),
        width(|r| &r.formats),
        width(|r| &r.size),
        width(|r| &r.bytes),
        width(|r| &r.millis),
    ];
    for r in all {
        println!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}  {:>w5$}  {}",
            r.input,
            r.status,
            r.formats,
            r.size,
            r.bytes,
            r.millis,
            r.note,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
        );
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
