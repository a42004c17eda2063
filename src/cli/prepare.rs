//! `mindee-prep prepare [OPTIONS] INPUT... -o OUT_DIR`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use mindee_prep::{
    expand_inputs, output, prepare_batch_with, OutputFormat, PageOperation, PageSelection,
    PrepareOptions,
};

use super::table::{prepared_json, print_table, rejected_json, Row};

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Files or directories (recursed).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Where prepared files go (created if missing). Inputs are never modified.
    #[arg(short = 'o', long = "out", value_name = "OUT_DIR")]
    out_dir: PathBuf,
    #[command(flatten)]
    prepare: PrepareFlags,
    /// Worker threads (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// One JSON object per input on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// How files are prepared: shared by `prepare` and `upload`.
#[derive(Debug, Args)]
pub struct PrepareFlags {
    /// Images of at most this many megapixels pass through untouched.
    #[arg(long = "max-mp", default_value_t = 5.0)]
    max_mp: f64,
    /// Larger images are scaled to about this many megapixels.
    #[arg(long = "target-mp", default_value_t = 4.0)]
    target_mp: f64,
    /// JPEG quality for re-encoded images (1-100); a JPEG is never re-saved above its own.
    #[arg(long, default_value_t = 85)]
    quality: u8,
    /// Format of re-encoded images: auto (by content: JPEG, palette PNG, G4 TIFF for fax
    /// pages), jpeg, png, or keep (the input's, where possible). TIFF and PDF stay themselves.
    #[arg(long = "output-format", value_name = "FORMAT", default_value = "auto")]
    output_format: OutputFormat,
    /// Password for encrypted PDFs (the output is saved without encryption).
    #[arg(long = "pdf-password", value_name = "PASSWORD")]
    pdf_password: Option<String>,
    /// PDF: keep only these 0-based pages (comma-separated; -1 is the last page).
    #[arg(
        long,
        value_name = "INDEXES",
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "remove_pages"
    )]
    pages: Option<Vec<i64>>,
    /// PDF: remove these 0-based pages (comma-separated; -1 is the last page).
    #[arg(
        long = "remove-pages",
        value_name = "INDEXES",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    remove_pages: Option<Vec<i64>>,
    /// PDF: apply --pages / --remove-pages only to documents of at least this many pages.
    #[arg(long = "min-pages", default_value_t = 0)]
    min_pages: u32,
    /// Memory the whole run may use for preparing (e.g. 512M, 2G; a plain number is MiB):
    /// files wait for their share, and one that needs more is refused with too_large.
    #[arg(long = "max-memory", value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    max_memory: u64,
}

/// `512M`, `2G`, `1.5G`, `100000K` or a plain number of MiB, in bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "M"),
    };
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("unknown unit {unit:?}: use K, M or G")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {text:?}"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("not a positive size: {text:?}"));
    }
    Ok((value * f64::from(1u32 << shift)) as u64)
}

impl PrepareFlags {
    /// The library options these flags stand for (not yet validated).
    pub fn options(&self) -> PrepareOptions {
        PrepareOptions {
            max_megapixels: self.max_mp,
            target_megapixels: self.target_mp,
            jpeg_quality: self.quality,
            pdf_password: self.pdf_password.clone(),
            pdf_pages: self.page_selection(),
            output_format: self.output_format,
            max_memory: self.max_memory,
            ..PrepareOptions::default()
        }
    }

    fn page_selection(&self) -> Option<PageSelection> {
        let (indexes, operation) = match (&self.pages, &self.remove_pages) {
            (Some(keep), _) => (keep.clone(), PageOperation::KeepOnly),
            (None, Some(remove)) => (remove.clone(), PageOperation::Remove),
            (None, None) => return None,
        };
        Some(PageSelection {
            indexes,
            operation,
            min_pages: self.min_pages,
        })
    }
}

pub fn run(args: PrepareArgs) -> ExitCode {
    let options = args.prepare.options();
    if let Err(e) = options.validate() {
        return super::usage_error(e);
    }
    let files = match expand_inputs(&args.inputs) {
        Ok(files) => files,
        Err(e) => return super::usage_error(e),
    };
    if let Err(e) = std::fs::create_dir_all(&args.out_dir) {
        return super::usage_error(format!("cannot create {}: {e}", args.out_dir.display()));
    }
    // Files run one per worker and their pages and images on rayon's global pool: both get
    // --jobs threads. (Building the global pool fails only if something already built it.)
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build_global();
    let stems = output::unique_stems(&files);
    let jobs: Vec<(PathBuf, String)> = files.into_iter().zip(stems).collect();

    let progress = if !args.json && jobs.len() > 1 && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files, {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let paths: Vec<&PathBuf> = jobs.iter().map(|(p, _)| p).collect();
    let out_dir = &args.out_dir;
    let printer = OrderedPrinter::default();
    let lines: Vec<Value> = {
        prepare_batch_with(&paths, &options, |item| {
            let input = item.path.display().to_string();
            let stem = &jobs[item.index].1;
            let line = match item.result {
                Ok(prepared) => {
                    match output::write_new(
                        out_dir,
                        stem,
                        prepared.output_format(),
                        prepared.bytes(),
                    ) {
                        Ok(written) => prepared_json(&input, &prepared, &written, item.millis),
                        Err(e) => rejected_json(&input, &e),
                    }
                }
                Err(e) => rejected_json(&input, &e),
            };
            if args.json {
                printer.done(item.index, line.to_string());
            }
            progress.inc(1);
            line
        })
    };
    progress.finish_and_clear();

    let failures = lines.iter().filter(|l| l["status"] != "ok").count();
    if !args.json {
        let rows: Vec<Row> = lines.iter().map(Row::from_json).collect();
        print_table(&rows);
        let total_in: u64 = lines.iter().filter_map(|l| l["bytes_in"].as_u64()).sum();
        let total_out: u64 = lines.iter().filter_map(|l| l["bytes_out"].as_u64()).sum();
        println!(
            "\n{} prepared, {} refused; {} → {} bytes",
            lines.len() - failures,
            failures,
            total_in,
            total_out
        );
    }
    super::batch_status(failures)
}

/// Prints JSON lines in input order as soon as every earlier input is done, so scripts see
/// results while a long batch runs and the order is still deterministic.
#[derive(Default)]
struct OrderedPrinter {
    state: std::sync::Mutex<(usize, std::collections::BTreeMap<usize, String>)>,
}

impl OrderedPrinter {
    fn done(&self, index: usize, line: String) {
        let mut guard = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (next, pending) = &mut *guard;
        pending.insert(index, line);
        while let Some(line) = pending.remove(next) {
            println!("{line}");
            *next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("256"), Ok(256 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("3T").is_err());
    }
}
