//! Soft targets, Hinton, Vinyals & Dean (2015): the teacher's probabilities at temperature T,
//! `q_i = exp(v_i/T) / Σ_j exp(v_j/T)`, and the loss
//! `α·T²·KL(q ‖ softmax(z/T)) + (1−α)·CE(y, softmax(z))` (the `T²` keeps the soft gradient's
//! scale as T changes; `distill.t_squared` turns it off). The hard term uses the real
//! examples' true labels and the synthetic (MUNGE) examples' teacher arg-max.

use super::method::{DistillMethod, FieldKind, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::targets::{SoftTargets, Targets, TeacherOutputs};

/// The registry's entry.
pub struct Hinton;

/// T, α and the T² switch: also the soft-target stage of the methods built on it.
pub(super) const FIELDS: [MethodField; 3] = [
    MethodField {
        key: "distill.temperature",
        label: "Temperature T",
        tooltip: "Soft targets are softmax(z / T). T = 1 is the ordinary softmax; higher T \
                  flattens it and exposes how the teacher ranks the wrong classes.",
        kind: FieldKind::Number {
            min: 0.1,
            max: 1000.0,
            speed: 0.1,
            value: |d| &mut d.temperature,
        },
    },
    MethodField {
        key: "distill.alpha",
        label: "α (weight of soft term)",
        tooltip: "L = α·T²·KL(q || p_T) + (1−α)·CE(y, p). α weights the SOFT term here (Keras \
                  uses the opposite convention).",
        kind: FieldKind::Fraction(|d| &mut d.alpha),
    },
    MethodField {
        key: "distill.t_squared",
        label: "T² factor",
        tooltip: "Multiply the soft term by T² so its gradients keep their size as T changes \
                  (Hinton et al. §2).",
        kind: FieldKind::Toggle {
            text: "scale soft term by T²",
            value: |d| &mut d.t_squared,
        },
    },
];

/// The targets: soft targets at the run's T with mixed labels.
pub fn targets(config: &RunConfig, teacher: &TeacherOutputs<'_>) -> SoftTargets {
    let d = &config.distill;
    SoftTargets {
        q: teacher.soft_targets(d.temperature),
        labels: teacher.mixed_labels(),
        temperature: d.temperature,
        alpha: d.alpha,
        t_squared: d.t_squared,
    }
}

impl DistillMethod for Hinton {
    fn method(&self) -> Method {
        Method::Hinton
    }

    fn name(&self) -> &'static str {
        "Soft targets"
    }

    fn label(&self) -> &'static str {
        "Soft targets (Hinton 2015)"
    }

    fn tooltip(&self) -> &'static str {
        "Train the student on the teacher's probabilities softened at temperature T, mixed with \
         the true labels."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, distill: &DistillConfig) -> String {
        format!("T = {}", distill.temperature)
    }

    fn title(&self, distill: &DistillConfig) -> String {
        format!("soft targets T = {}", distill.temperature)
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        let t2 = if d.t_squared {
            d.temperature * d.temperature
        } else {
            1.0
        };
        let soft_name = if d.t_squared {
            format!(
                "student soft part α·T²·KL (α={}, T²={})",
                d.alpha,
                d.temperature * d.temperature
            )
        } else {
            format!("student soft part α·KL (α={:.2})", d.alpha)
        };
        LossLegend {
            soft_name,
            soft_weight: d.alpha * t2,
            hard_name: format!("student hard part (1−α)·CE (1−α={:.2})", 1.0 - d.alpha),
            hard_weight: 1.0 - d.alpha,
        }
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        Box::new(targets(config, teacher))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, logits, outputs, softmax_at};
    use super::*;

    #[test]
    fn mixes_true_labels_of_real_examples_with_teacher_labels_of_synthetic_ones() {
        let logits = logits();
        let mut config = RunConfig::default();
        config.distill.temperature = 4.0;
        config.distill.alpha = 0.7;
        config.distill.t_squared = false;
        let t = targets(&config, &outputs(&logits));
        assert_eq!(t.labels, [1, 2, 7, 8]);
        assert_close(&t.q, &softmax_at(&logits[0], 4.0));
        assert_eq!((t.temperature, t.alpha, t.t_squared), (4.0, 0.7, false));
    }
}
