//! Run configuration: everything needed to rerun an experiment, seed included.
//!
//! A [`RunConfig`] is written to every run folder as `config.toml`, read back by
//! `distillery train --config`, edited field by field with `--set key=value`, and filled in by the
//! GUI's launcher. [`RunConfig::validate`] is the one place where bad values are rejected, so the
//! CLI and the GUI report the same message for the same mistake; it is pure, and whether a run
//! fits in this machine's memory is asked separately ([`memory::check_fits`]).
//!
//! One file per section, each with its own checks (`data`, `models`, `optim`, `distill`,
//! `transfer`, `probes`); `run` holds [`RunConfig`] and the checks across sections, `toml_text`
//! the TOML text and `--set`, `check` the range checks they share and `error` the error type.
//! This file only re-exports them, so that `crate::config::X` names every item and no section
//! imports this file back.

mod check;
mod data;
mod distill;
mod error;
pub mod memory;
mod models;
mod optim;
mod probes;
mod run;
mod toml_text;
mod transfer;

pub use data::{DataConfig, DataSource, PlaneDataConfig, PlaneKind, MAX_JITTER_PX, MNIST_CLASSES};
pub use distill::{BiasConfig, DistillConfig, Method, NoiseKind};
pub use error::ConfigError;
pub use models::{EnsembleCombine, StudentConfig, TeacherConfig, MAX_EPOCHS};
pub use optim::{OptimConfig, OptimizerKind, Schedule};
pub use probes::{ProbeConfig, DEFAULT_PROBES, MAX_PROBES, MAX_PROBE_INTERVAL_SECS};
pub use run::RunConfig;
pub use transfer::{MungeConfig, TransferConfig, TransferKind};
