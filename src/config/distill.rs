//! The distillation section: the method and its parameters, and the bias adjustment of the
//! distilled student after training.

use serde::{Deserialize, Serialize};

use super::check::{check_classes, check_finite_positive, check_non_negative, check_probability};
use super::error::{invalid, ConfigError};

/// The four ways of transferring knowledge from teacher to student.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Hinton, Vinyals & Dean (2015): soft targets at temperature T plus hard labels.
    #[default]
    Hinton,
    /// Ba & Caruana (2014): L2 regression of the student's logits on the teacher's.
    LogitL2,
    /// Sau & Balasubramanian (2016): logit matching with noise on the teacher's logits.
    NoisyTeacher,
    /// Buciluă, Caruana & Niculescu-Mizil (2006): MUNGE synthetic data labelled by the teacher.
    ModelCompression,
}

impl Method {
    /// Every method's key; `distill::methods::REGISTRY` holds what each one is and does.
    pub const ALL: [Method; 4] = [
        Method::Hinton,
        Method::LogitL2,
        Method::NoisyTeacher,
        Method::ModelCompression,
    ];

    /// The name used in configs, file metadata and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Method::Hinton => "hinton",
            Method::LogitL2 => "logit-l2",
            Method::NoisyTeacher => "noisy-teacher",
            Method::ModelCompression => "model-compression",
        }
    }
}

/// Which form of noise the noisy teacher adds to its logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// `v' = v · (1 + σ·ε)` (KD_Lib's form).
    #[default]
    Multiplicative,
    /// `v' = v + σ·ε`.
    Additive,
}

/// Distillation settings: the method and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// Which of the four methods.
    pub method: Method,
    /// Softmax temperature T (Hinton).
    pub temperature: f64,
    /// Weight of the *soft* term (Hinton); `1 − α` weights the hard-label term.
    pub alpha: f64,
    /// Multiply the soft term by T² so its gradients keep their scale as T changes.
    pub t_squared: bool,
    /// Zero-mean each example's logits before the L2 match (logit matching, noisy teacher).
    pub zero_mean_logits: bool,
    /// Noise scale σ (noisy teacher).
    pub noise_sigma: f64,
    /// Probability that an example's teacher logits get noise (noisy teacher).
    pub noise_p: f64,
    /// Multiplicative or additive noise.
    pub noise_kind: NoiseKind,
    /// Model compression: label synthetic data with the teacher's probabilities instead of its
    /// hard labels.
    pub soft_labels: bool,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self {
            method: Method::Hinton,
            temperature: 20.0,
            alpha: 0.9,
            t_squared: true,
            zero_mean_logits: false,
            noise_sigma: 0.1f64.sqrt(),
            noise_p: 0.5,
            noise_kind: NoiseKind::Multiplicative,
            soft_labels: false,
        }
    }
}

/// Per-class bias adjustment of the distilled student after training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BiasConfig {
    /// The classes whose output bias is shifted.
    pub classes: Vec<u8>,
    /// A fixed shift (used when `search` is off).
    pub shift: f64,
    /// Search the shift that minimises errors on the held-out images of a validation run
    /// (`data.validation`), else on the training images (all classes, whatever the transfer
    /// set kept); never on the test set. The test errors at that shift are reported.
    pub search: bool,
}

impl DistillConfig {
    /// Checks the method's parameters.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        check_finite_positive("distill.temperature", self.temperature)?;
        check_probability("distill.alpha", self.alpha)?;
        check_non_negative("distill.noise_sigma", self.noise_sigma)?;
        check_probability("distill.noise_p", self.noise_p)
    }
}

impl BiasConfig {
    /// Checks the adjustment for data of `classes` classes.
    pub(super) fn validate(&self, classes: usize) -> Result<(), ConfigError> {
        check_classes("bias.classes", &self.classes, classes)?;
        if !self.shift.is_finite() {
            return Err(invalid("bias.shift", "must be a finite number"));
        }
        Ok(())
    }
}
