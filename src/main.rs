//! The `distillery` binary: the GUI with no arguments, the command line otherwise.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use distillery::cli::{execute, Cli};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => execute(command),
        None => open_window(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
