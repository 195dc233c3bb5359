//! One optimisation step on one batch: the body of every phase's training loop and of
//! `distillery bench`. The batch is split into row slices that run side by side on the pool's
//! threads; the optimiser sums their gradients.

use candle_core::Tensor;
use rand::RngCore;
use rayon::prelude::*;

use super::optim::Optimizer;
use crate::distill::loss::LossParts;
use crate::distill::targets::StudentBatch;
use crate::model::mlp::{Dropout, ForwardCache, Gradients, Mlp};
use crate::rng::FastRng;

/// Per-batch settings of [`train_step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepSettings {
    /// Dropout of the training forward pass.
    pub dropout: Dropout,
    /// Max-norm constraint applied after the update (0: off).
    pub max_norm: f64,
    /// Learning rate of this step.
    pub lr: f64,
    /// The hidden layer whose output the loss reads besides the logits
    /// ([`crate::distill::targets::Targets::feature_layer`]); `None` for most losses.
    pub feature_layer: Option<usize>,
}

/// A batch is split across threads only into parts of at least this many rows: a smaller
/// matrix product costs more to hand out than it saves.
const MIN_ROWS_PER_PART: usize = 32;

/// How many parts [`train_step`] splits a batch of `rows` into: one per thread of the pool,
/// at most one per [`MIN_ROWS_PER_PART`] rows.
pub fn batch_parts(rows: usize) -> usize {
    rayon::current_num_threads()
        .min(rows / MIN_ROWS_PER_PART)
        .max(1)
}

/// One optimisation step on one batch, the body of every phase's training loop (and of
/// `distillery bench`): training forward pass, `loss(logits)` for the loss and `∂L/∂z`,
/// hand-written backward pass, optimiser update, max-norm. When the loss is not finite the
/// model is left untouched and the parts are returned for the caller to report.
///
/// The batch is split into [`batch_parts`] slices of rows whose forward and backward passes
/// run side by side on the pool's threads, each with its own matrix products; the optimiser
/// sums their weight gradients as it reads them. Handing each thread its own rows keeps both
/// cores busy through the element-wise work between the products, which one shared batch-128
/// product per layer did not.
pub fn train_step(
    model: &mut Mlp,
    optimizer: &mut Optimizer,
    x: &Tensor,
    step: &StepSettings,
    dropout_rng: &mut FastRng,
    loss: impl FnOnce(&StudentBatch<'_>) -> candle_core::Result<LossParts>,
) -> candle_core::Result<LossParts> {
    let parts = batch_parts(x.dim(0)?);
    train_step_in_parts(model, optimizer, x, step, dropout_rng, parts, loss)
}

/// [`train_step`] with the batch split into exactly `parts` slices of rows (1: not split).
/// Each slice draws its dropout masks from its own stream, seeded from `dropout_rng`, so the
/// result does not depend on which thread runs which slice.
pub fn train_step_in_parts(
    model: &mut Mlp,
    optimizer: &mut Optimizer,
    x: &Tensor,
    step: &StepSettings,
    dropout_rng: &mut FastRng,
    parts: usize,
    loss: impl FnOnce(&StudentBatch<'_>) -> candle_core::Result<LossParts>,
) -> candle_core::Result<LossParts> {
    let rows = x.dim(0)?;
    let parts = parts.clamp(1, rows.max(1));
    let classes = model.classes();
    let bounds: Vec<(usize, usize)> = (0..parts)
        .map(|p| (p * rows / parts, (p + 1) * rows / parts))
        .collect();
    let mut rngs: Vec<FastRng> = if parts == 1 {
        Vec::new()
    } else {
        (0..parts)
            .map(|_| FastRng::new(dropout_rng.next_u64()))
            .collect()
    };
    let shared: &Mlp = model;
    let forwards = if parts == 1 {
        vec![shared.forward_train(x, step.dropout, dropout_rng)?]
    } else {
        bounds
            .par_iter()
            .zip(rngs.par_iter_mut())
            .map(|(&(from, to), rng)| {
                shared.forward_train(&x.narrow(0, from, to - from)?, step.dropout, rng)
            })
            .collect::<candle_core::Result<Vec<_>>>()?
    };
    let mut z = Vec::with_capacity(rows * classes);
    let mut features = Vec::new();
    for (logits, cache) in &forwards {
        z.extend(logits.flatten_all()?.to_vec1::<f32>()?);
        if let Some(layer) = step.feature_layer {
            let hidden = cache.hidden(layer).ok_or_else(|| {
                candle_core::Error::Msg(format!(
                    "the loss reads hidden layer {layer} but the model {:?} has {} hidden layers",
                    shared.layers,
                    shared.depth() - 1
                ))
            })?;
            features.extend(hidden.flatten_all()?.to_vec1::<f32>()?);
        }
    }
    let width = features.len() / rows.max(1);
    let mut parts_loss = loss(&StudentBatch {
        logits: &z,
        features: &features,
    })?;
    if !parts_loss.total.is_finite() {
        return Ok(parts_loss);
    }
    let grad = std::mem::take(&mut parts_loss.grad);
    let feature_grad = std::mem::take(&mut parts_loss.feature_grad);
    if step.feature_layer.is_some() && feature_grad.len() != features.len() {
        candle_core::bail!(
            "the loss returned {} feature gradients for {} features",
            feature_grad.len(),
            features.len()
        );
    }
    let backward = |((_, cache), &(from, to)): (&(Tensor, ForwardCache), &(usize, usize))| {
        let g = Tensor::from_slice(
            &grad[from * classes..to * classes],
            (to - from, classes),
            x.device(),
        )?;
        match step.feature_layer {
            Some(layer) => {
                let dh = Tensor::from_slice(
                    &feature_grad[from * width..to * width],
                    (to - from, width),
                    x.device(),
                )?;
                shared.backward_with_hidden(cache, &g, Some((layer, &dh)))
            }
            None => shared.backward(cache, &g),
        }
    };
    let grads: Vec<Gradients> = if parts == 1 {
        forwards
            .iter()
            .zip(&bounds)
            .map(backward)
            .collect::<candle_core::Result<_>>()?
    } else {
        forwards
            .par_iter()
            .zip(bounds.par_iter())
            .map(backward)
            .collect::<candle_core::Result<_>>()?
    };
    let grads: Vec<&Gradients> = grads.iter().collect();
    optimizer.step_parts(model, &grads, step.lr)?;
    if step.max_norm > 0.0 {
        model.apply_max_norm(step.max_norm)?;
    }
    Ok(parts_loss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptimConfig;
    use crate::distill::targets::{HardLabels, Targets};
    use candle_core::Device;

    /// A loss that reads a hidden layer (RKD on the last hidden layer, a batch-level loss):
    /// the features gathered from the parts and the feature gradient split back over them
    /// give the step of the unsplit batch, and the step changes the layers below the
    /// features (the gradient really reaches them).
    #[test]
    fn split_batch_steps_with_a_feature_loss_match_the_whole_batch() {
        use crate::distill::methods::rkd::RkdTargets;
        let device = Device::Cpu;
        let rows = 64;
        let x: Vec<f32> = (0..rows * 20)
            .map(|i| ((i * 37 % 101) as f32) / 101.0)
            .collect();
        let x = Tensor::from_vec(x, (rows, 20), &device).unwrap();
        let batch: Vec<usize> = (0..rows).collect();
        let targets = RkdTargets {
            embeddings: (0..rows * 24)
                .map(|i| ((i * 13 % 29) as f32) / 29.0)
                .collect(),
            width: 24,
            labels: (0..rows).map(|i| (i % 10) as u8).collect(),
            student_layer: 2,
            distance_weight: 25.0,
            angle_weight: 50.0,
        };
        let run = |parts: usize, rkd: bool| {
            let mut model = Mlp::new(&[20, 48, 32, 10], 5, &device).unwrap();
            let mut optimizer = Optimizer::new(&OptimConfig {
                lr: 0.05,
                ..OptimConfig::default()
            });
            let step = StepSettings {
                dropout: Dropout::default(),
                max_norm: 0.0,
                lr: 0.05,
                feature_layer: rkd.then_some(2),
            };
            let mut rng = FastRng::new(9);
            let mut losses = Vec::new();
            for _ in 0..3 {
                let parts = train_step_in_parts(
                    &mut model,
                    &mut optimizer,
                    &x,
                    &step,
                    &mut rng,
                    parts,
                    |s| {
                        if rkd {
                            targets.loss(s, &batch, 10, &mut FastRng::new(0))
                        } else {
                            HardLabels {
                                labels: targets.labels.clone(),
                            }
                            .loss(s, &batch, 10, &mut FastRng::new(0))
                        }
                    },
                )
                .unwrap();
                losses.push(parts.total);
            }
            let first: Vec<f32> = model.weights[0].flatten_all().unwrap().to_vec1().unwrap();
            (losses, first)
        };
        let (whole_loss, whole) = run(1, true);
        for parts in [2, 3] {
            let (loss, split) = run(parts, true);
            for (a, b) in loss.iter().zip(&whole_loss) {
                assert!((a - b).abs() < 1e-4, "{parts} parts: loss {a} vs {b}");
            }
            for (p, q) in split.iter().zip(&whole) {
                assert!((p - q).abs() < 1e-4, "{parts} parts: {p} vs {q}");
            }
        }
        assert_ne!(
            run(1, false).1,
            whole,
            "the relational gradient reached fc1"
        );
    }

    /// A batch split into parts takes the step the whole batch takes (same loss; parameters
    /// equal up to float summation order), for both optimisers, with max-norm on; with dropout
    /// the split step is deterministic whatever thread runs which part.
    #[test]
    fn split_batch_steps_match_the_whole_batch() {
        let device = Device::Cpu;
        let rows = 70;
        let x: Vec<f32> = (0..rows * 20)
            .map(|i| ((i * 37 % 101) as f32) / 101.0)
            .collect();
        let labels: Vec<u8> = (0..rows).map(|i| (i % 10) as u8).collect();
        let x = Tensor::from_vec(x, (rows, 20), &device).unwrap();
        let batch: Vec<usize> = (0..rows).collect();
        let targets = HardLabels { labels };
        let run = |kind: crate::config::OptimizerKind, parts: usize, dropout: Dropout| {
            let mut model = Mlp::new(&[20, 48, 32, 10], 5, &device).unwrap();
            let mut optimizer = Optimizer::new(&OptimConfig {
                kind,
                lr: 0.05,
                ..OptimConfig::default()
            });
            let step = StepSettings {
                dropout,
                max_norm: 1.5,
                lr: 0.05,
                feature_layer: None,
            };
            let mut rng = FastRng::new(9);
            let mut losses = Vec::new();
            for _ in 0..3 {
                let parts = train_step_in_parts(
                    &mut model,
                    &mut optimizer,
                    &x,
                    &step,
                    &mut rng,
                    parts,
                    |s| targets.loss(s, &batch, 10, &mut FastRng::new(0)),
                )
                .unwrap();
                losses.push(parts.total);
            }
            let params: Vec<Vec<f32>> = model
                .weights
                .iter()
                .chain(&model.biases)
                .map(|t| t.flatten_all().unwrap().to_vec1().unwrap())
                .collect();
            (losses, params)
        };
        for kind in [
            crate::config::OptimizerKind::Sgd,
            crate::config::OptimizerKind::Adamw,
        ] {
            let (whole_loss, whole) = run(kind, 1, Dropout::default());
            for parts in [2, 3] {
                let (loss, split) = run(kind, parts, Dropout::default());
                for (a, b) in loss.iter().zip(&whole_loss) {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "{kind:?} {parts} parts: loss {a} vs {b}"
                    );
                }
                for (p, q) in split.iter().flatten().zip(whole.iter().flatten()) {
                    assert!((p - q).abs() < 1e-4, "{kind:?} {parts} parts: {p} vs {q}");
                }
            }
            let dropout = Dropout {
                input: 0.2,
                hidden: 0.5,
            };
            assert_eq!(run(kind, 2, dropout), run(kind, 2, dropout));
            assert_ne!(run(kind, 2, dropout).1, whole);
        }
    }
}
