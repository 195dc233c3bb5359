//! The noisy teacher, Sau & Balasubramanian (2016): logit matching where, for every batch, each
//! example's teacher logits are perturbed with probability p: `v' = v·(1 + σ·ε)`
//! (multiplicative) or `v + σ·ε` (additive), `ε ~ N(0, 1)`, a regulariser that simulates
//! learning from several teachers.

use super::logit_l2::ZERO_MEAN;
use super::method::{DistillMethod, FieldKind, MethodField};
use crate::config::{Method, NoiseKind, RunConfig};
use crate::distill::targets::{LogitTargets, Noise, Targets, TeacherOutputs};

/// The registry's entry.
pub struct NoisyTeacher;

const FIELDS: [MethodField; 4] = [
    ZERO_MEAN,
    MethodField {
        key: "distill.noise_sigma",
        label: "Noise σ",
        tooltip: "v' = v·(1 + σ·ε) (multiplicative) or v + σ·ε (additive), ε ~ N(0, 1)",
        kind: FieldKind::Number {
            min: 0.0,
            max: 10.0,
            speed: 0.01,
            value: |d| &mut d.noise_sigma,
        },
    },
    MethodField {
        key: "distill.noise_p",
        label: "Noise probability p",
        tooltip: "Probability that an example's teacher logits are perturbed in a batch.",
        kind: FieldKind::Fraction(|d| &mut d.noise_p),
    },
    MethodField {
        key: "distill.noise_kind",
        label: "Noise form",
        tooltip: "Multiplicative scales the logits, additive shifts them.",
        kind: FieldKind::Choice {
            options: &["multiplicative", "additive"],
            get: |d| usize::from(d.noise_kind == NoiseKind::Additive),
            set: |d, i| {
                d.noise_kind = if i == 1 {
                    NoiseKind::Additive
                } else {
                    NoiseKind::Multiplicative
                }
            },
        },
    },
];

/// The targets: logit matching's, with the configured noise.
pub fn targets(config: &RunConfig, teacher: &TeacherOutputs<'_>) -> LogitTargets {
    let d = &config.distill;
    LogitTargets {
        noise: Some(Noise {
            sigma: d.noise_sigma,
            p: d.noise_p,
            kind: d.noise_kind,
        }),
        ..super::logit_l2::targets(config, teacher)
    }
}

impl DistillMethod for NoisyTeacher {
    fn method(&self) -> Method {
        Method::NoisyTeacher
    }

    fn name(&self) -> &'static str {
        "Noisy teacher"
    }

    fn label(&self) -> &'static str {
        "Noisy teacher (Sau & Balasubramanian 2016)"
    }

    fn tooltip(&self) -> &'static str {
        "Logit matching with random noise on the teacher's logits in every batch."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn matches_logits(&self) -> bool {
        true
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        Box::new(targets(config, teacher))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{logits, outputs};
    use super::*;

    #[test]
    fn matches_the_teachers_logits_with_the_configured_noise() {
        let logits = logits();
        let mut config = RunConfig::default();
        config.distill.noise_sigma = 0.3;
        let t = targets(&config, &outputs(&logits));
        assert_eq!(t.v, logits[0]);
        assert_eq!(t.noise.map(|n| n.sigma), Some(0.3));
    }
}
