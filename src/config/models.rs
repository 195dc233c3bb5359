//! The model sections: the teacher (one MLP or an ensemble) and the student.

use serde::{Deserialize, Serialize};

use super::check::{
    check_at_least, check_at_most, check_fraction_below_one, check_non_negative, check_widths,
};
use super::data::MAX_JITTER_PX;
use super::error::ConfigError;
use super::optim::OptimConfig;

/// The most epochs a phase may train: the longest schedules in the literature (dropout nets,
/// 3,000 epochs) fit, a typo like `epochs = 1000000` (weeks of training) does not.
pub const MAX_EPOCHS: usize = 10_000;

/// How an ensemble's members are combined into one soft target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EnsembleCombine {
    /// Mean of the members' `softmax(v_m / T)` (the paper's choice).
    #[default]
    MeanProbs,
    /// `softmax(mean_m(v_m) / T)`.
    MeanLogits,
}

/// The teacher: one MLP with dropout, or an ensemble of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Dropout probability on the input pixels.
    pub dropout_input: f64,
    /// Dropout probability on hidden units.
    pub dropout_hidden: f64,
    /// Max-norm constraint on each unit's incoming weight vector (0 = off).
    pub max_norm: f64,
    /// Random translation of up to ± this many pixels.
    pub jitter_px: usize,
    /// Number of ensemble members (1 = a single teacher).
    pub ensemble: usize,
    /// How ensemble members are combined.
    pub combine: EnsembleCombine,
    /// Training epochs.
    pub epochs: usize,
    /// Optimiser.
    pub optim: OptimConfig,
    /// Load a trained teacher from this safetensors file instead of training one.
    pub weights: Option<std::path::PathBuf>,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        Self {
            hidden: vec![1200, 1200],
            dropout_input: 0.2,
            dropout_hidden: 0.5,
            max_norm: 3.5,
            jitter_px: 2,
            ensemble: 1,
            combine: EnsembleCombine::MeanProbs,
            epochs: 60,
            optim: OptimConfig {
                lr: 0.1,
                momentum: 0.9,
                ..OptimConfig::default()
            },
            weights: None,
        }
    }
}

/// The student: a small MLP without regularisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudentConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Training epochs (baseline and distilled student alike).
    pub epochs: usize,
    /// Optimiser.
    pub optim: OptimConfig,
    /// Also train the same student on hard labels only, as the baseline.
    pub baseline: bool,
}

impl Default for StudentConfig {
    fn default() -> Self {
        Self {
            hidden: vec![800, 800],
            epochs: 30,
            optim: OptimConfig::default(),
            baseline: true,
        }
    }
}

impl TeacherConfig {
    /// Checks the teacher; its epochs only when it is trained here (`weights` unset).
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        check_widths("teacher.hidden", &self.hidden)?;
        check_fraction_below_one("teacher.dropout_input", self.dropout_input)?;
        check_fraction_below_one("teacher.dropout_hidden", self.dropout_hidden)?;
        check_non_negative("teacher.max_norm", self.max_norm)?;
        check_at_most("teacher.jitter_px", self.jitter_px, MAX_JITTER_PX)?;
        check_at_least("teacher.ensemble", self.ensemble, 1)?;
        if self.weights.is_none() {
            check_at_least("teacher.epochs", self.epochs, 1)?;
        }
        check_at_most("teacher.epochs", self.epochs, MAX_EPOCHS)?;
        self.optim.validate("teacher.optim")
    }
}

impl StudentConfig {
    /// Checks the student (the baseline and the distilled one share it).
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        check_widths("student.hidden", &self.hidden)?;
        check_at_least("student.epochs", self.epochs, 1)?;
        check_at_most("student.epochs", self.epochs, MAX_EPOCHS)?;
        self.optim.validate("student.optim")
    }
}
