//! Run folders on disk: `runs/<timestamp>-<name>/` with `config.toml`, `metrics.csv`,
//! `summary.json`, `status.json` (how the run ended), `probes.csv` and the models'
//! `.safetensors`. Every file is written to a temporary file and renamed into place, so a crash
//! never leaves half a file.
//!
//! - [`record`]: the recorder that turns a run's events into its folder, and the entry points
//!   ([`run`], [`run_at`]) that train a run into one;
//! - [`dir`] an open folder, [`metrics`] and [`probes`] its CSV files, [`status`] how it ended,
//!   [`teacher`] a teacher referenced instead of copied;
//! - [`stored`] a folder read back, [`folders`] listing, measuring and deleting them.

pub mod dir;
pub mod folders;
pub mod metrics;
pub mod probes;
pub mod record;
pub mod status;
pub mod stored;
pub mod teacher;

pub use dir::RunDir;
pub use folders::{delete_run, list_runs, ListedRun};
pub use metrics::{metrics_csv, parse_metrics_csv, METRICS_HEADER};
pub use record::{record_outcome, run, run_at};
pub use status::{mark_run, RunStatus};
pub use stored::{load_run, StoredRun};

/// A run folder that cannot be written or read.
pub type RunsError = crate::files::FileError;
