//! The `distillery` binary: the GUI with no arguments, the command line otherwise.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use distillery::cli::{execute, Cli};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fixes candle's thread count once, before any thread starts. candle asks for it on every
/// matrix product and, without `RAYON_NUM_THREADS`, re-reads `/proc/cpuinfo` each time: two
/// file reads per product, which tripled the wall time of the plane playground's small models
/// (2.7 s → 0.8 s for a teacher and two students on 1,000 points). The number is candle's own.
fn fix_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}

#[cfg(feature = "gui")]
fn open_window() -> anyhow::Result<()> {
    distillery::ui::run_app()
}

#[cfg(not(feature = "gui"))]
fn open_window() -> anyhow::Result<()> {
    anyhow::bail!(
        "this build has no window (built without the `gui` feature): give a command, see --help"
    )
}

fn main() -> ExitCode {
    fix_thread_count();
    let cli = Cli::parse();
    // A mistyped DISTILLERY_GEMM is refused here, before any work, instead of silently
    // measuring or training with the default matrix products.
    let result = distillery::model::gemm::backend_from_env()
        .map_err(anyhow::Error::msg)
        .and_then(|_| match cli.command {
            Some(command) => execute(command),
            None => open_window(),
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
