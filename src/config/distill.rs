//! The distillation section: the method and its parameters, and the bias adjustment of the
//! distilled student after training.

use serde::{Deserialize, Serialize};

use super::check::{check_classes, check_finite_positive, check_non_negative, check_probability};
use super::error::{invalid, ConfigError};

/// The ways of transferring knowledge from teacher to student (the four of the seed, then five
/// later families).
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
    /// Romero et al. (2015): a hint on a hidden layer first, then soft targets.
    Fitnets,
    /// Zhao et al. (2022): decoupled KD, target-class and non-target-class terms weighted apart.
    Dkd,
    /// Zhang et al. (2018): deep mutual learning, students that learn from each other.
    Dml,
    /// Mirzadeh et al. (2020): teacher → assistant of middle width → student.
    Takd,
    /// Park et al. (2019): relational KD on the penultimate embeddings' distances and angles.
    Rkd,
}

impl Method {
    /// Every method's key; `distill::methods::REGISTRY` holds what each one is and does.
    pub const ALL: [Method; 9] = [
        Method::Hinton,
        Method::LogitL2,
        Method::NoisyTeacher,
        Method::ModelCompression,
        Method::Fitnets,
        Method::Dkd,
        Method::Dml,
        Method::Takd,
        Method::Rkd,
    ];

    /// The name used in configs, file metadata and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Method::Hinton => "hinton",
            Method::LogitL2 => "logit-l2",
            Method::NoisyTeacher => "noisy-teacher",
            Method::ModelCompression => "model-compression",
            Method::Fitnets => "fitnets",
            Method::Dkd => "dkd",
            Method::Dml => "dml",
            Method::Takd => "takd",
            Method::Rkd => "rkd",
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
    /// Which method.
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
    /// FitNets: epochs of the hint stage (stage 1) before the soft-target stage.
    pub fitnets_hint_epochs: usize,
    /// FitNets: the student's guided hidden layer (1 = the first hidden layer).
    pub fitnets_student_layer: usize,
    /// FitNets: the teacher's hint hidden layer (1 = the first hidden layer).
    pub fitnets_teacher_layer: usize,
    /// FitNets: weight of the hint loss, a mean squared error over the hint layer's units.
    pub fitnets_hint_weight: f64,
    /// DKD: weight α of the target-class term (TCKD).
    pub dkd_alpha: f64,
    /// DKD: weight β of the non-target-class term (NCKD).
    pub dkd_beta: f64,
    /// DKD: its temperature (the paper's 4 rather than the soft targets' T).
    pub dkd_temperature: f64,
    /// DML: how many students learn together.
    pub dml_peers: usize,
    /// DML: weight of the KL to the peers' mean prediction (the labels' CE has weight 1).
    pub dml_kl_weight: f64,
    /// TAKD: the assistant's width (every hidden layer; as deep as the student); 0 takes the
    /// geometric mean of the teacher's and the student's first hidden widths.
    pub takd_assistant_width: usize,
    /// RKD: weight of the distance-wise loss.
    pub rkd_distance_weight: f64,
    /// RKD: weight of the angle-wise loss.
    pub rkd_angle_weight: f64,
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
            fitnets_hint_epochs: 5,
            fitnets_student_layer: 1,
            fitnets_teacher_layer: 1,
            fitnets_hint_weight: 100.0,
            dkd_alpha: 1.0,
            dkd_beta: 8.0,
            dkd_temperature: 4.0,
            dml_peers: 2,
            dml_kl_weight: 1.0,
            takd_assistant_width: 0,
            rkd_distance_weight: 25.0,
            rkd_angle_weight: 50.0,
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
        check_probability("distill.noise_p", self.noise_p)?;
        check_finite_positive("distill.dkd_temperature", self.dkd_temperature)?;
        for (field, weight) in [
            ("distill.fitnets_hint_weight", self.fitnets_hint_weight),
            ("distill.dkd_alpha", self.dkd_alpha),
            ("distill.dkd_beta", self.dkd_beta),
            ("distill.dml_kl_weight", self.dml_kl_weight),
            ("distill.rkd_distance_weight", self.rkd_distance_weight),
            ("distill.rkd_angle_weight", self.rkd_angle_weight),
        ] {
            check_non_negative(field, weight)?;
        }
        if self.fitnets_student_layer == 0 || self.fitnets_teacher_layer == 0 {
            return Err(invalid(
                "distill.fitnets_student_layer",
                "hidden layers count from 1 (distill.fitnets_student_layer and distill.fitnets_teacher_layer)",
            ));
        }
        if self.dml_peers < 2 {
            return Err(invalid(
                "distill.dml_peers",
                "mutual learning needs at least 2 students",
            ));
        }
        Ok(())
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
