//! Model compression, Buciluă, Caruana & Niculescu-Mizil (2006): grow the transfer set with
//! MUNGE synthetic examples, label every example with the teacher's arg-max, and train the
//! student on those labels with cross-entropy (or, with `distill.soft_labels`, on the teacher's
//! probabilities at T = 1 through the soft loss with α = 1).

use super::method::{DistillMethod, FieldKind, MethodField};
use crate::config::{Method, RunConfig};
use crate::distill::targets::{HardLabels, SoftTargets, Targets, TeacherOutputs};

/// The registry's entry.
pub struct ModelCompression;

const FIELDS: [MethodField; 1] = [MethodField {
    key: "distill.soft_labels",
    label: "Synthetic labels",
    tooltip: "Label the transfer set with the teacher's probabilities at T = 1 instead of its \
              arg-max class.",
    kind: FieldKind::Toggle {
        text: "teacher probabilities (else hard labels)",
        value: |d| &mut d.soft_labels,
    },
}];

/// The targets: the teacher's probabilities at T = 1 with `soft_labels`.
pub fn soft_targets(teacher: &TeacherOutputs<'_>) -> SoftTargets {
    SoftTargets {
        q: teacher.soft_targets(1.0),
        labels: teacher.labels(),
        temperature: 1.0,
        alpha: 1.0,
        t_squared: false,
    }
}

/// The targets without `soft_labels`: the teacher's arg-max on every example.
pub fn hard_targets(teacher: &TeacherOutputs<'_>) -> HardLabels {
    HardLabels {
        labels: teacher.labels(),
    }
}

impl DistillMethod for ModelCompression {
    fn method(&self) -> Method {
        Method::ModelCompression
    }

    fn name(&self) -> &'static str {
        "MUNGE"
    }

    fn label(&self) -> &'static str {
        "Model compression / MUNGE (Buciluă 2006)"
    }

    fn tooltip(&self) -> &'static str {
        "Grow a synthetic transfer set with MUNGE, label it with the teacher, and train the \
         student on those labels."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn grows_transfer_set(&self) -> bool {
        true
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        if config.distill.soft_labels {
            Box::new(soft_targets(teacher))
        } else {
            Box::new(hard_targets(teacher))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, logits, outputs, softmax_at};
    use super::*;

    #[test]
    fn learns_the_teachers_labels_on_every_example() {
        let logits = logits();
        let teacher = outputs(&logits);
        assert_eq!(hard_targets(&teacher).labels, [5, 6, 7, 8]);
        let soft = soft_targets(&teacher);
        assert_eq!(soft.labels, [5, 6, 7, 8]);
        assert_close(&soft.q, &softmax_at(&logits[0], 1.0));
        assert_eq!(
            (soft.temperature, soft.alpha),
            (1.0, 1.0),
            "probabilities at T = 1"
        );
    }
}
