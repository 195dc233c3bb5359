//! Why a run stopped early: one error type for every stage, so the recorder and the worker
//! tell a cancelled run from a diverged or failed one by its variant.

use thiserror::Error;

use super::divergence::Divergence;
use crate::config::ConfigError;

/// Why a run stopped early.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The cancel token was set.
    #[error("cancelled")]
    Cancelled,
    /// Training diverged: the loss became NaN or infinite or exploded, a metric became NaN, or
    /// the test errors sat at chance level.
    #[error("{phase} training diverged {}; lower the learning rate ({lr_field} = {lr})", .cause.describe(*.epoch))]
    Diverged {
        /// Phase name.
        phase: &'static str,
        /// Epoch, from 1.
        epoch: usize,
        /// What was seen.
        cause: Divergence,
        /// The `--set` path of the phase's learning rate (e.g. `student.optim.lr`).
        lr_field: &'static str,
        /// Its value.
        lr: f64,
    },
    /// A configuration value is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A data, weights or run-folder file is missing, corrupt or unwritable.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// A tensor operation failed.
    /// (Not `#[from]`: that would also make it the error's source, and the message, which
    /// already contains it, would be printed twice by `{:#}`.)
    #[error("tensor error: {0}")]
    Tensor(candle_core::Error),
    /// Anything else, with a message.
    #[error("{0}")]
    Other(String),
}

impl From<candle_core::Error> for TrainError {
    fn from(error: candle_core::Error) -> Self {
        TrainError::Tensor(error)
    }
}
