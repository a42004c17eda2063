//! The `mindee-prep` command: a thin layer of argument parsing and output formatting over the
//! library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    return_freed_memory();
    cli::run(cli::Cli::parse())
}

/// glibc serves large blocks with mmap only until the first one is freed, then raises the
/// threshold (up to 32 MiB) and keeps later blocks in per-thread arenas that are seldom given
/// back: a batch that admits one 24 MB decode at a time on 8 workers would still grow to 8 of
/// them. A fixed 1 MiB threshold keeps every large buffer in its own mapping, returned on free,
/// so `--max-memory` bounds what the process really holds (measured: 8 progressive 8 MP JPEGs
/// under `--max-memory 128M` peaked at 206 MiB without it, 54 MiB with it).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
