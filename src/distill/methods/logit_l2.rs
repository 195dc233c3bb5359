//! Logit matching, Ba & Caruana (2014): regress the student's logits on the teacher's,
//! `L = (1/B) Σ_b ½‖z_b − v_b‖²` (optionally with each example's logits centred first); for an
//! ensemble, `v` is the members' mean logits.

use super::method::{DistillMethod, FieldKind, MethodField};
use crate::config::{Method, RunConfig};
use crate::distill::targets::{LogitTargets, Targets, TeacherOutputs};

/// The registry's entry.
pub struct LogitL2;

/// The field both logit methods read.
pub(super) const ZERO_MEAN: MethodField = MethodField {
    key: "distill.zero_mean_logits",
    label: "Zero-mean logits",
    tooltip: "Centre each example's teacher and student logits before matching them (the \
              softmax does not see a constant shift).",
    kind: FieldKind::Toggle {
        text: "centre each example's logits",
        value: |d| &mut d.zero_mean_logits,
    },
};

const FIELDS: [MethodField; 1] = [ZERO_MEAN];

/// The targets: the teacher's (mean) logits, without noise.
pub fn targets(config: &RunConfig, teacher: &TeacherOutputs<'_>) -> LogitTargets {
    LogitTargets {
        v: teacher.mean_logits(),
        zero_mean: config.distill.zero_mean_logits,
        noise: None,
    }
}

impl DistillMethod for LogitL2 {
    fn method(&self) -> Method {
        Method::LogitL2
    }

    fn name(&self) -> &'static str {
        "Logit L2"
    }

    fn label(&self) -> &'static str {
        "Logit matching L2 (Ba & Caruana 2014)"
    }

    fn tooltip(&self) -> &'static str {
        "Regress the student's logits on the teacher's with a squared error."
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
    fn matches_the_teachers_logits_without_noise() {
        let logits = logits();
        let t = targets(&RunConfig::default(), &outputs(&logits));
        assert_eq!(t.v, logits[0]);
        assert_eq!(t.noise, None);
    }
}
