//! What a training phase fits the model to. Every phase of every method trains through one
//! loop; what differs is the [`Targets`] it is given: per-row targets for a whole (transfer)
//! set, turned into a batch's loss and `∂L/∂z` here. A method of the registry
//! ([`super::methods`]) builds its targets from the teacher's cached outputs
//! ([`TeacherOutputs`]); a new kind of loss is a new type implementing [`Targets`].

use super::loss::{self, LossParts};
use super::soft::ensemble_soft_targets;
use crate::config::{EnsembleCombine, NoiseKind};
use crate::rng::FastRng;

/// What the loss sees of a batch of the student: its logits, and the output of one hidden
/// layer when the targets ask for it (hints, relational losses).
#[derive(Clone, Copy, Debug)]
pub struct StudentBatch<'a> {
    /// Logits `z`, `[B, classes]`.
    pub logits: &'a [f32],
    /// The output of hidden layer [`Targets::feature_layer`] (after its ReLU), `[B, width]`;
    /// empty when the targets read none.
    pub features: &'a [f32],
}

impl<'a> StudentBatch<'a> {
    /// A batch of logits alone.
    pub fn logits(logits: &'a [f32]) -> Self {
        Self {
            logits,
            features: &[],
        }
    }
}

/// A phase's targets: the loss of a batch of the student's outputs.
pub trait Targets: Send + Sync {
    /// The student's hidden layer (1 = the first) whose output the loss reads besides the
    /// logits; the training step then hands it over in [`StudentBatch::features`] and sends
    /// [`LossParts::feature_grad`] back into that layer.
    fn feature_layer(&self) -> Option<usize> {
        None
    }

    /// Loss and `∂L/∂z` (and `∂L/∂h` when it reads features) for the student's batch of the
    /// target rows `rows` (an example's index, or `view · n + i` on a jittered transfer set);
    /// an error when the shapes disagree (see [`loss`]).
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        rng: &mut FastRng,
    ) -> candle_core::Result<LossParts>;
}

/// The teacher's outputs on the transfer set, cached once per run: what a method builds its
/// targets from.
#[derive(Clone, Copy, Debug)]
pub struct TeacherOutputs<'a> {
    /// Each member's logits, `[rows, classes]` (row `view · n + i`).
    pub member_logits: &'a [Vec<f32>],
    /// How the members are combined.
    pub combine: EnsembleCombine,
    /// Number of classes.
    pub classes: usize,
    /// The transfer set's labels, one per example (`n` of them).
    pub labels: &'a [u8],
    /// How many of the examples (a prefix) are real training examples; the rest are synthetic.
    pub real: usize,
    /// Each member's output of hidden layer [`super::methods::DistillMethod::teacher_layer`]
    /// on the same rows, `[rows, width]`; empty when the method reads none.
    pub member_features: &'a [Vec<f32>],
}

impl TeacherOutputs<'_> {
    fn refs(&self) -> Vec<&[f32]> {
        self.member_logits.iter().map(Vec::as_slice).collect()
    }

    /// Number of target rows (examples × shift views).
    pub fn rows(&self) -> usize {
        self.member_logits
            .first()
            .map_or(0, |l| l.len() / self.classes.max(1))
    }

    /// The combined teacher's probabilities at `temperature`, `[rows, classes]`.
    pub fn soft_targets(&self, temperature: f64) -> Vec<f32> {
        ensemble_soft_targets(&self.refs(), self.classes, temperature, self.combine)
    }

    /// The members' mean hidden features, `[rows, width]` (empty when none were cached).
    pub fn mean_features(&self) -> Vec<f32> {
        let refs: Vec<&[f32]> = self.member_features.iter().map(Vec::as_slice).collect();
        if refs.is_empty() {
            return Vec::new();
        }
        super::soft::mean_logits(&refs)
    }

    /// The width of the cached hidden features (0 when none were cached).
    pub fn feature_width(&self) -> usize {
        self.member_features
            .first()
            .map_or(0, |f| f.len() / self.rows().max(1))
    }

    /// The members' mean logits, `[rows, classes]`.
    pub fn mean_logits(&self) -> Vec<f32> {
        super::soft::mean_logits(&self.refs())
    }

    /// The combined teacher's arg-max on every row.
    pub fn labels(&self) -> Vec<u8> {
        self.soft_targets(1.0)
            .chunks_exact(self.classes.max(1))
            .map(|row| crate::eval::argmax(row) as u8)
            .collect()
    }

    /// Real examples' true labels, synthetic ones' teacher arg-max, on every row.
    pub fn mixed_labels(&self) -> Vec<u8> {
        let teacher = self.labels();
        let n = self.labels.len().max(1);
        (0..self.rows())
            .map(|row| {
                let i = row % n;
                if i < self.real {
                    self.labels[i]
                } else {
                    teacher[row]
                }
            })
            .collect()
    }
}

/// Noise settings of the noisy teacher.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// σ.
    pub sigma: f64,
    /// Probability that an example's logits are perturbed.
    pub p: f64,
    /// Multiplicative or additive.
    pub kind: NoiseKind,
}

/// The rows `batch` of a `[rows, width]` table.
pub fn gather<T: Copy>(values: &[T], width: usize, batch: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(batch.len() * width);
    for &i in batch {
        out.extend_from_slice(&values[i * width..(i + 1) * width]);
    }
    out
}

/// Cross-entropy with these labels (teacher, baseline, model compression).
#[derive(Clone, Debug, PartialEq)]
pub struct HardLabels {
    /// One label per row.
    pub labels: Vec<u8>,
}

impl Targets for HardLabels {
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        _: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        loss::cross_entropy(student.logits, &gather(&self.labels, 1, rows), classes)
    }
}

/// Hinton's soft-target loss with precomputed soft targets `q` (`[rows, classes]`).
#[derive(Clone, Debug, PartialEq)]
pub struct SoftTargets {
    /// Teacher soft targets at `temperature`.
    pub q: Vec<f32>,
    /// Hard labels for the `(1 − α)` term, one per row.
    pub labels: Vec<u8>,
    /// T.
    pub temperature: f64,
    /// Weight of the soft term.
    pub alpha: f64,
    /// Multiply the soft term by T².
    pub t_squared: bool,
}

impl Targets for SoftTargets {
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        _: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        loss::hinton(
            student.logits,
            &gather(&self.q, classes, rows),
            &gather(&self.labels, 1, rows),
            classes,
            self.temperature,
            self.alpha,
            self.t_squared,
        )
    }
}

/// L2 match of the teacher's logits `v` (`[rows, classes]`), optionally noisy.
#[derive(Clone, Debug, PartialEq)]
pub struct LogitTargets {
    /// Teacher logits (cached once per run).
    pub v: Vec<f32>,
    /// Centre each example's logits first.
    pub zero_mean: bool,
    /// The noisy teacher's perturbation, drawn afresh for every batch.
    pub noise: Option<Noise>,
}

impl Targets for LogitTargets {
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        rng: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        let mut v = gather(&self.v, classes, rows);
        if let Some(n) = self.noise {
            loss::add_noise(&mut v, classes, n.sigma, n.p, n.kind, rng);
        }
        loss::logit_l2(student.logits, &v, classes, self.zero_mean)
    }
}
