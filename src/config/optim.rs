//! The optimiser section, the same for the teacher's and the students' phases.

use serde::{Deserialize, Serialize};

use super::check::{
    check_at_least, check_finite_positive, check_fraction_below_one, check_non_negative,
    check_probability,
};
use super::error::ConfigError;

/// The optimiser used for one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with (PyTorch-style) momentum.
    #[default]
    Sgd,
    /// AdamW (decoupled weight decay).
    Adamw,
}

/// Learning-rate schedule over the epochs of a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same learning rate every epoch.
    Constant,
    /// Cosine decay from `lr` to `lr · final_lr_fraction`.
    #[default]
    Cosine,
    /// Exponential decay from `lr` to `lr · final_lr_fraction`.
    Exponential,
}

/// Optimiser settings of one training phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// SGD with momentum or AdamW.
    pub kind: OptimizerKind,
    /// Initial learning rate.
    pub lr: f64,
    /// Momentum (SGD) or β1 (AdamW).
    pub momentum: f64,
    /// L2 weight decay (SGD) or decoupled weight decay (AdamW).
    pub weight_decay: f64,
    /// Schedule shape.
    pub schedule: Schedule,
    /// The learning rate at the last epoch, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// Examples per batch.
    pub batch_size: usize,
    /// Linear learning-rate warm-up over this many epochs (0 = off).
    pub warmup_epochs: f64,
    /// Per-step decay of an exponential moving average of the weights, which the phase then
    /// evaluates and keeps instead of the last weights (0 = off; e.g. 0.9995).
    pub ema_decay: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            schedule: Schedule::Cosine,
            final_lr_fraction: 0.02,
            batch_size: 128,
            warmup_epochs: 1.0,
            ema_decay: 0.0,
        }
    }
}

impl OptimConfig {
    /// Checks one phase's optimiser; `prefix` is its `--set` path (`student.optim`).
    pub(super) fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let field = |name: &str| format!("{prefix}.{name}");
        check_finite_positive(&field("lr"), self.lr)?;
        check_fraction_below_one(&field("momentum"), self.momentum)?;
        check_non_negative(&field("weight_decay"), self.weight_decay)?;
        check_probability(&field("final_lr_fraction"), self.final_lr_fraction)?;
        check_non_negative(&field("warmup_epochs"), self.warmup_epochs)?;
        check_fraction_below_one(&field("ema_decay"), self.ema_decay)?;
        check_at_least(&field("batch_size"), self.batch_size, 1)
    }
}
