//! The method registry: each way of distilling is one file here that says its name, the
//! `distill.*` fields it reads, how it builds the student's targets from the teacher's cached
//! outputs (and so its loss and gradient, through [`Targets`]), and its labels and tooltips
//! for the launcher. The trainer, the launcher, the plane playground and the sweeps look a
//! method up here instead of matching on it; adding a method is adding a file, a variant of
//! [`Method`] (its config key) and a line in [`REGISTRY`].

pub mod dkd;
pub mod dml;
mod fitnets;
mod hinton;
mod logit_l2;
pub mod method;
mod model_compression;
mod noisy_teacher;
pub mod rkd;
pub mod takd;

pub use method::{DistillMethod, FieldKind, HintStage, LossLegend, MethodField};

use crate::config::Method;

/// Every method, in the order the launcher lists them.
pub const REGISTRY: [&dyn DistillMethod; 9] = [
    &hinton::Hinton,
    &logit_l2::LogitL2,
    &noisy_teacher::NoisyTeacher,
    &model_compression::ModelCompression,
    &fitnets::Fitnets,
    &dkd::Dkd,
    &dml::Dml,
    &takd::Takd,
    &rkd::Rkd,
];

/// The registry's entry for `method`.
pub fn get(method: Method) -> &'static dyn DistillMethod {
    REGISTRY
        .iter()
        .copied()
        .find(|m| m.method() == method)
        .unwrap_or(REGISTRY[0])
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A tiny transfer set of two real and two synthetic examples for the methods' tests.

    use crate::config::EnsembleCombine;
    use crate::distill::targets::TeacherOutputs;

    /// Classes of [`LOGITS`].
    pub const CLASSES: usize = 10;

    /// Four transfer examples: two real ones (labels 1 and 2) and two MUNGE ones (labels 3
    /// and 4, copied from the examples they grew from), on which the teacher's arg-max is 5,
    /// 6, 7 and 8, so every label source gives different labels.
    pub fn logits() -> Vec<Vec<f32>> {
        let v = (0..LABELS.len())
            .flat_map(|i| (0..CLASSES).map(move |c| if c == 5 + i { 3.0 } else { 0.1 * c as f32 }))
            .collect();
        vec![v]
    }

    /// The transfer set's labels.
    pub const LABELS: [u8; 4] = [1, 2, 3, 4];

    /// Outputs over [`logits`] with two real examples.
    pub fn outputs(logits: &[Vec<f32>]) -> TeacherOutputs<'_> {
        TeacherOutputs {
            member_logits: logits,
            combine: EnsembleCombine::default(),
            classes: CLASSES,
            labels: &LABELS,
            real: 2,
            member_features: &[],
        }
    }

    /// `softmax(v / T)` row by row, computed here in f64 independently of `distill::soft`.
    pub fn softmax_at(logits: &[f32], temperature: f64) -> Vec<f32> {
        logits
            .chunks_exact(CLASSES)
            .flat_map(|row| {
                let e: Vec<f64> = row
                    .iter()
                    .map(|v| (f64::from(*v) / temperature).exp())
                    .collect();
                let sum: f64 = e.iter().sum();
                e.into_iter().map(move |x| (x / sum) as f32)
            })
            .collect()
    }

    /// Element-wise closeness.
    pub fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    #[test]
    fn every_method_is_registered_once_and_found_by_its_key() {
        for method in Method::ALL {
            let entries = REGISTRY.iter().filter(|m| m.method() == method).count();
            assert_eq!(entries, 1, "{method:?}");
            assert_eq!(get(method).method(), method);
        }
        assert_eq!(REGISTRY.len(), Method::ALL.len());
    }

    /// Every field a method declares is a real `--set` key, and its accessor reaches the value
    /// that key sets (a field pointing at the wrong value would edit another setting).
    #[test]
    fn every_field_is_a_settable_key_whose_accessor_reaches_its_value() {
        for method in REGISTRY {
            for field in method.fields() {
                let mut config = RunConfig::default();
                let d = &mut config.distill;
                let assignment = match field.kind {
                    FieldKind::Number { value, .. } | FieldKind::Fraction(value) => {
                        let v = *value(d) * 0.5 + 0.125;
                        format!("{}={v}", field.key)
                    }
                    FieldKind::Count { value, max, .. } => {
                        format!("{}={}", field.key, (*value(d) + 1).min(max))
                    }
                    FieldKind::Toggle { value, .. } => format!("{}={}", field.key, !*value(d)),
                    FieldKind::Choice { options, get, .. } => {
                        format!(
                            "{}=\"{}\"",
                            field.key,
                            options[(get(d) + 1) % options.len()]
                        )
                    }
                };
                let mut expected = config.clone();
                match field.kind {
                    FieldKind::Number { value, .. } | FieldKind::Fraction(value) => {
                        let v = value(&mut expected.distill);
                        *v = *v * 0.5 + 0.125;
                    }
                    FieldKind::Count { value, max, .. } => {
                        let v = value(&mut expected.distill);
                        *v = (*v + 1).min(max);
                    }
                    FieldKind::Toggle { value, .. } => {
                        let v = value(&mut expected.distill);
                        *v = !*v;
                    }
                    FieldKind::Choice { options, get, set } => {
                        let next = (get(&expected.distill) + 1) % options.len();
                        set(&mut expected.distill, next);
                    }
                }
                config
                    .set(&assignment)
                    .unwrap_or_else(|e| panic!("{}: {assignment}: {e}", method.name()));
                assert_eq!(config, expected, "{}: {assignment}", method.name());
            }
        }
    }
}
