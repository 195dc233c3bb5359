//! What a training phase fits the model to: hard labels, soft targets, or teacher logits.
//! Each batch's loss and gradient come from here; the training loop itself is the same for
//! every method.

use crate::config::NoiseKind;
use crate::distill::loss::{self, LossParts};
use crate::rng::FastRng;

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

/// Per-example training targets for a whole (transfer) set, indexed like the set.
#[derive(Clone, Debug)]
pub enum Targets {
    /// Cross-entropy with these labels (teacher, baseline, model compression).
    Hard {
        /// One label per example.
        labels: Vec<u8>,
    },
    /// Hinton's soft-target loss with precomputed soft targets `q` (`[n, classes]`).
    Soft {
        /// Teacher soft targets at `temperature`.
        q: Vec<f32>,
        /// Hard labels for the `(1 − α)` term.
        labels: Vec<u8>,
        /// T.
        temperature: f64,
        /// Weight of the soft term.
        alpha: f64,
        /// Multiply the soft term by T².
        t_squared: bool,
    },
    /// L2 match of the teacher's logits `v` (`[n, classes]`), optionally noisy.
    Logits {
        /// Teacher logits (cached once per run).
        v: Vec<f32>,
        /// Centre each example's logits first.
        zero_mean: bool,
        /// The noisy teacher's perturbation, drawn afresh for every batch.
        noise: Option<Noise>,
    },
}

fn gather<T: Copy>(values: &[T], width: usize, batch: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(batch.len() * width);
    for &i in batch {
        out.extend_from_slice(&values[i * width..(i + 1) * width]);
    }
    out
}

impl Targets {
    /// Loss and `∂L/∂z` for student logits `z` of the examples `batch`; an error when `z`
    /// does not hold `batch.len()` rows of `classes` (see [`loss`]).
    pub fn loss(
        &self,
        z: &[f32],
        batch: &[usize],
        classes: usize,
        rng: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        match self {
            Targets::Hard { labels } => loss::cross_entropy(z, &gather(labels, 1, batch), classes),
            Targets::Soft {
                q,
                labels,
                temperature,
                alpha,
                t_squared,
            } => loss::hinton(
                z,
                &gather(q, classes, batch),
                &gather(labels, 1, batch),
                classes,
                *temperature,
                *alpha,
                *t_squared,
            ),
            Targets::Logits {
                v,
                zero_mean,
                noise,
            } => {
                let mut v = gather(v, classes, batch);
                if let Some(n) = noise {
                    loss::add_noise(&mut v, classes, n.sigma, n.p, n.kind, rng);
                }
                loss::logit_l2(z, &v, classes, *zero_mean)
            }
        }
    }
}
