//! `distillery reproduce`: the paper's MNIST table, one row per experiment, with our numbers.
//!
//! One teacher is trained (the `hinton-mnist` preset's) and reused by every experiment that
//! uses it in the paper (distilled, omit-3, only-7-8, logit-l2, noisy-teacher, munge, the 2×30
//! temperature sweep); the ensemble trains its own members. Each experiment is an ordinary run
//! (same trainer, same run folders) in a folder named after its configuration, so a rerun
//! after a crash or Ctrl-C reuses every run that finished with the same configuration. The
//! table is written as `results.md` and `results.csv` beside them.
//!
//! `--split validation` runs the same table with the last 10,000 training images held out as
//! the evaluation set: how the presets' hyperparameters were chosen, without the test set.
//!
//! The table itself is data (`experiments.rs`): each experiment names its preset, its teacher,
//! its changes, its plan of runs and the rows it reports; [`reproduce`] runs them in order with
//! one loop (`runner.rs` makes the runs, `rows.rs` the rows, `table.rs` the files).
//!
//! `--paper methods` ([`methods()`]) is a second table on the same runner: the nine methods of
//! the registry side by side on the shipped teacher, each setting chosen on the validation
//! split.

mod experiments;
mod methods;
mod options;
mod rows;
mod runner;
mod table;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::RunConfig;
use crate::events::{EventSink, RunSummary};
use crate::files::write_atomic;
pub use experiments::SMALL_TEMPERATURES;
use experiments::{Plan, Teacher, EXPERIMENTS, JITTERED, MAIN};
pub use methods::methods;
pub use options::{Budget, Options, Paper, Split, VALIDATION_SIZE};
use rows::Outcome;
pub use rows::Row;
pub use runner::run_folder;
use runner::Runner;
pub use table::machine;
use table::Header;

/// Runs the whole table and writes `results.md` and `results.csv` into `out_dir`.
pub fn reproduce(options: &Options, out_dir: &Path, sink: &dyn EventSink) -> Result<PathBuf> {
    anyhow::ensure!(options.seeds >= 1, "--seeds must be ≥ 1");
    let mut runner = Runner {
        runs_dir: out_dir.join("runs"),
        sink,
        reused: 0,
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut shared: Option<RunSummary> = None;
    let mut configs: Vec<RunConfig> = Vec::new();
    for experiment in EXPERIMENTS {
        let teacher = shared.as_ref().map(|s| s.dir.join("teacher.safetensors"));
        let config = runner::configure(experiment, options, teacher.as_deref())?;
        let runs = runner.run_plan(experiment.plan, &config, options)?;
        if experiment.teacher == Teacher::TrainsShared {
            shared = runs.first().cloned();
        }
        let outcome = Outcome {
            config: &config,
            runs: &runs,
            temperatures: match experiment.plan {
                Plan::Temperatures(t) => t,
                _ => &[],
            },
            shared: shared
                .as_ref()
                .context("no experiment trains the shared teacher")?,
            runs_dir: &runner.runs_dir,
        };
        rows.extend(outcome.rows(experiment.rows));
        configs.push(config);
    }

    let total = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    let named = |name: &str| {
        configs
            .iter()
            .find(|c| c.name == name)
            .with_context(|| format!("the table has no {name} run"))
    };
    let seed = shared
        .context("no experiment trains the shared teacher")?
        .seed;
    let header = Header {
        options: options.clone(),
        seed,
        total_secs: total,
        reused: runner.reused,
        recipe: table::recipe(named(MAIN)?, named(JITTERED)?),
    };
    write_atomic(
        &out_dir.join("results.md"),
        table::markdown(&rows, &header).as_bytes(),
    )?;
    write_atomic(
        &out_dir.join("results.csv"),
        table::csv(&rows, seed).as_bytes(),
    )?;
    Ok(out_dir.join("results.md"))
}
