//! The `mindee-prep` command: a thin layer of argument parsing and output formatting over the
//! library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
