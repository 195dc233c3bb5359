//! What the trainer reports, beyond test errors, about how close each model is to its teacher:
//! the probe images' logits while a model trains ([`ProbeSet`]), and the distillation gap on
//! the whole test set after every student epoch ([`TeacherTestLogits::gap`]).
//!
//! A probe forward pass of at most [`MAX_PROBES`](crate::config::MAX_PROBES) images costs well
//! under a millisecond, a few times per second: training speed does not change measurably
//! (`distillery bench` reports both).

use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};

use crate::config::{ConfigError, EnsembleCombine, ProbeConfig};
use crate::data::dataset::Dataset;
use crate::distill::soft::ensemble_soft_targets;
use crate::eval::{agreement, mean_kl};
use crate::events::DistillationGap;

/// The probe images of a run and the clock that throttles their reports.
#[derive(Clone, Debug)]
pub struct ProbeSet {
    samples: Vec<usize>,
    /// Row-major `[samples, dim]` pixels.
    images: Vec<f32>,
    dim: usize,
    interval: Duration,
    last: Option<Instant>,
}

impl ProbeSet {
    /// The configured probes of `test`; an index outside the test set is an error naming it.
    pub fn new(config: &ProbeConfig, test: &Dataset) -> Result<Self, ConfigError> {
        if let Some(i) = config.samples.iter().find(|i| **i >= test.len()) {
            return Err(ConfigError::Invalid {
                field: "probes.samples".into(),
                problem: format!(
                    "test image {i} is outside the test set ({} images)",
                    test.len()
                ),
            });
        }
        Ok(Self {
            samples: config.samples.clone(),
            images: config
                .samples
                .iter()
                .flat_map(|&i| test.image(i).iter().copied())
                .collect(),
            dim: test.dim(),
            interval: Duration::try_from_secs_f64(config.interval_secs.max(0.0))
                .unwrap_or(Duration::MAX),
            last: None,
        })
    }

    /// The probe images' test-set indices.
    pub fn samples(&self) -> &[usize] {
        &self.samples
    }

    /// Whether there are no probes (then nothing is reported).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Whether the interval since the last report has passed (and there are probes).
    pub fn due(&self) -> bool {
        !self.is_empty() && self.last.is_none_or(|t| t.elapsed() >= self.interval)
    }

    /// The probes' `[samples, classes]` logits under `model` (no dropout); restarts the
    /// interval.
    pub fn logits(
        &mut self,
        model: &crate::model::mlp::Mlp,
        device: &Device,
    ) -> candle_core::Result<Vec<f32>> {
        self.last = Some(Instant::now());
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let x = Tensor::from_slice(&self.images, (self.samples.len(), self.dim), device)?;
        model.forward(&x)?.flatten_all()?.to_vec1::<f32>()
    }
}

/// The teacher's test-set logits, computed once per run, against which every baseline and
/// student epoch is measured.
#[derive(Clone, Debug)]
pub struct TeacherTestLogits {
    members: Vec<Vec<f32>>,
    combine: EnsembleCombine,
    classes: usize,
    /// The combined teacher's probabilities at T = 1.
    probs_1: Vec<f32>,
}

impl TeacherTestLogits {
    /// From each ensemble member's `[n, classes]` test logits (one member for a single teacher).
    pub fn new(members: Vec<Vec<f32>>, combine: EnsembleCombine, classes: usize) -> Self {
        let probs_1 = Self::soft_targets(&members, combine, classes, 1.0);
        Self {
            members,
            combine,
            classes,
            probs_1,
        }
    }

    fn soft_targets(
        members: &[Vec<f32>],
        combine: EnsembleCombine,
        classes: usize,
        temperature: f64,
    ) -> Vec<f32> {
        let refs: Vec<&[f32]> = members.iter().map(Vec::as_slice).collect();
        ensemble_soft_targets(&refs, classes, temperature, combine)
    }

    /// How far a model with these test logits is from the teacher: `KL(q^T ‖ softmax(z/T))`
    /// at `temperature` and at T = 1 (with `q^T` the teacher's soft targets, combined over an
    /// ensemble as in training), and top-1 agreement.
    pub fn gap(&self, logits: &[f32], temperature: f64) -> DistillationGap {
        let q_t = Self::soft_targets(&self.members, self.combine, self.classes, temperature);
        DistillationGap {
            kl_t: mean_kl(&q_t, logits, self.classes, temperature),
            kl_1: mean_kl(&self.probs_1, logits, self.classes, 1.0),
            agreement: agreement(&self.probs_1, logits, self.classes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(n: usize) -> Dataset {
        Dataset {
            images: (0..n * 4).map(|v| v as f32 / 10.0).collect(),
            labels: vec![0; n],
            rows: 2,
            cols: 2,
        }
    }

    #[test]
    fn probes_take_their_images_and_reject_indices_outside_the_test_set() {
        let test = dataset(5);
        let config = ProbeConfig {
            samples: vec![4, 1],
            interval_secs: 3600.0,
        };
        let mut probes = ProbeSet::new(&config, &test).unwrap();
        assert_eq!(probes.images, [test.image(4), test.image(1)].concat());
        assert!(probes.due(), "the first report is due at once");
        let device = Device::Cpu;
        let model = crate::model::mlp::Mlp::new(&[4, 3, 2], 1, &device).unwrap();
        let logits = probes.logits(&model, &device).unwrap();
        assert_eq!(logits.len(), 4);
        let row = model.logits(test.image(4), &device).unwrap();
        assert_eq!(&logits[..2], row.as_slice());
        assert!(!probes.due(), "then not before the interval");
        let bad = ProbeConfig {
            samples: vec![5],
            ..config
        };
        let message = ProbeSet::new(&bad, &test).unwrap_err().to_string();
        assert!(
            message.starts_with("probes.samples: test image 5"),
            "{message}"
        );
    }

    // Reference (numpy), an ensemble of two teachers combined by mean of probabilities:
    //   v1 = np.array([[4.0, 0.0, 0.0], [0.0, 2.0, 1.0]]); v2 = np.array([[2.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    //   z = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.5]])
    //   sm = lambda a, T: np.exp(a / T) / np.exp(a / T).sum(1, keepdims=True)
    //   q = lambda T: (sm(v1, T) + sm(v2, T)) / 2
    //   kl = lambda T: (q(T) * (np.log(q(T)) - np.log(sm(z, T)))).sum(1).mean()
    //   kl(3) -> 0.0110497729, kl(1) -> 0.0882566045
    //   (q(1).argmax(1) == z.argmax(1)).mean() -> 0.5
    #[test]
    fn gap_of_an_ensemble_matches_numpy() {
        let teacher = TeacherTestLogits::new(
            vec![
                vec![4.0, 0.0, 0.0, 0.0, 2.0, 1.0],
                vec![2.0, 2.0, 0.0, 0.0, 0.0, 3.0],
            ],
            EnsembleCombine::MeanProbs,
            3,
        );
        let gap = teacher.gap(&[3.0, 1.0, 0.0, 0.0, 2.0, 1.5], 3.0);
        assert!((gap.kl_t - 0.011_049_772_9).abs() < 1e-6, "{gap:?}");
        assert!((gap.kl_1 - 0.088_256_604_5).abs() < 1e-6, "{gap:?}");
        assert_eq!(gap.agreement, 0.5);
    }

    #[test]
    fn any_probe_interval_builds_a_probe_set_without_panicking() {
        // `Duration::from_secs_f64(1e20)` panics ("value is either too big or NaN"); the
        // trainer (src/train/probes.rs) must not, whatever reaches it unvalidated.
        let test = Dataset {
            images: vec![0.5; 4],
            labels: vec![1],
            rows: 2,
            cols: 2,
        };
        for seconds in [1e20, f64::INFINITY, f64::NAN, -1.0, f64::MAX] {
            let probes = ProbeConfig {
                samples: vec![0],
                interval_secs: seconds,
            };
            let set = ProbeSet::new(&probes, &test).unwrap();
            assert!(set.due(), "{seconds}: the first report is always due");
        }
    }
}
