//! Decoupled KD, Zhao et al. (2022): the KD loss split into a target-class part and a
//! non-target part, weighted apart. With `b = [p_t, 1 − p_t]` the binary target-vs-rest
//! probabilities and `p̂` the probabilities over the non-target classes only, at temperature
//! T: `TCKD = T²·KL(b_teacher ‖ b_student)`, `NCKD = T²·KL(p̂_teacher ‖ p̂_student)`, and
//! `L = CE(y, p) + α·TCKD + β·NCKD` (mdistiller's DKD with its defaults α = 1, β = 8, T = 4;
//! its warm-up of the KD weight over the first 20 epochs is not applied). Classic KD is
//! `TCKD + (1 − p_t^teacher)·NCKD`: the non-target part's weight is tied to the teacher's
//! confidence, which DKD frees. An ensemble teacher's logits are its members' mean. The loss
//! and its gradient are in [`crate::distill::dkd`].

use super::method::{DistillMethod, FieldKind, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::dkd::dkd;
use crate::distill::loss::LossParts;
use crate::distill::targets::{gather, StudentBatch, Targets, TeacherOutputs};
use crate::rng::FastRng;

/// The registry's entry.
pub struct Dkd;

const FIELDS: [MethodField; 3] = [
    MethodField {
        key: "distill.dkd_alpha",
        label: "α (target-class term)",
        tooltip: "Weight of TCKD, the KL between teacher and student on target vs the rest \
                  (the paper: 1).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 100.0,
            speed: 0.05,
            value: |d| &mut d.dkd_alpha,
        },
    },
    MethodField {
        key: "distill.dkd_beta",
        label: "β (non-target term)",
        tooltip: "Weight of NCKD, the KL over the non-target classes only: the dark knowledge \
                  (the paper: 8).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 100.0,
            speed: 0.1,
            value: |d| &mut d.dkd_beta,
        },
    },
    MethodField {
        key: "distill.dkd_temperature",
        label: "Temperature (DKD)",
        tooltip: "T of both KL terms, each multiplied by T² (the paper: 4).",
        kind: FieldKind::Number {
            min: 0.1,
            max: 1000.0,
            speed: 0.1,
            value: |d| &mut d.dkd_temperature,
        },
    },
];

/// The targets: the teacher's logits and the labels.
#[derive(Clone, Debug, PartialEq)]
pub struct DkdTargets {
    /// The teacher's (members' mean) logits, `[rows, classes]`.
    pub v: Vec<f32>,
    /// Real examples' labels, synthetic ones' teacher arg-max, one per row.
    pub labels: Vec<u8>,
    /// T.
    pub temperature: f64,
    /// Weight of TCKD.
    pub alpha: f64,
    /// Weight of NCKD.
    pub beta: f64,
}

impl Targets for DkdTargets {
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        _: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        let parts = dkd(
            student.logits,
            &gather(&self.v, classes, rows),
            &gather(&self.labels, 1, rows),
            classes,
            self.temperature,
            self.alpha,
            self.beta,
        )?;
        Ok(LossParts {
            total: parts.total,
            soft: self.alpha * parts.tckd + self.beta * parts.nckd,
            hard: parts.ce,
            grad: parts.grad,
            feature_grad: Vec::new(),
        })
    }
}

impl DistillMethod for Dkd {
    fn method(&self) -> Method {
        Method::Dkd
    }

    fn name(&self) -> &'static str {
        "DKD"
    }

    fn label(&self) -> &'static str {
        "Decoupled KD (Zhao 2022)"
    }

    fn tooltip(&self) -> &'static str {
        "Soft targets split into a target-class term (α) and a non-target term (β), so the \
         dark knowledge is weighted on its own."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, d: &DistillConfig) -> String {
        format!(
            "α = {}, β = {}, T = {}",
            d.dkd_alpha, d.dkd_beta, d.dkd_temperature
        )
    }

    fn title(&self, d: &DistillConfig) -> String {
        format!("DKD β = {}", d.dkd_beta)
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        LossLegend {
            soft_name: format!(
                "student DKD α·TCKD + β·NCKD (α={}, β={})",
                d.dkd_alpha, d.dkd_beta
            ),
            soft_weight: 1.0,
            hard_name: "student hard part CE".to_owned(),
            hard_weight: 1.0,
        }
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        let d = &config.distill;
        Box::new(DkdTargets {
            v: teacher.mean_logits(),
            labels: teacher.mixed_labels(),
            temperature: d.dkd_temperature,
            alpha: d.dkd_alpha,
            beta: d.dkd_beta,
        })
    }
}
