//! The `distillery` binary: the GUI with no arguments, the command line otherwise.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use distillery::cli::{execute, Cli};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => execute(command),
        None => distillery::ui::run_app(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
