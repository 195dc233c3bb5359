//! Why a sweep cannot be planned, run or read back.

use thiserror::Error;

/// Why a sweep cannot be planned, run or read back.
#[derive(Debug, Error)]
pub enum SweepError {
    /// An `--axis` is malformed, names an unknown setting, or has a value that does not fit it.
    #[error("--axis {axis}: {problem}")]
    Axis {
        /// The axis's setting (or the whole argument when it has no `=`).
        axis: String,
        /// What is wrong.
        problem: String,
    },
    /// The sweep as a whole cannot be planned (no axis, too many, a bad combination).
    #[error("{0}")]
    Plan(String),
    /// The base configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The reference run, whose teacher every point loads, failed.
    #[error("reference run (the shared teacher) failed: {0}")]
    Reference(String),
    /// The sweep was cancelled; finished points stay and a rerun resumes.
    #[error("cancelled (finished points are kept: run the same sweep again to resume)")]
    Cancelled,
    /// A sweep file could not be written or read.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}
