//! An exponential moving average of a model's weights (Polyak averaging), the model a phase
//! evaluates and keeps when `optim.ema_decay` > 0.
//!
//! After every [`EMA_EVERY`]-th optimiser step, each averaged value moves towards the live
//! one: `a ← d·a + (1 − d)·w`, with `d = decay^EMA_EVERY` (the same average as updating after
//! every step, at an eighth of the memory traffic). Early on the decay is capped at
//! `(1 + n)/(10 + n)` after `n` updates, so that the average forgets the random initial
//! weights quickly instead of dragging them along for thousands of steps.

use candle_core::{Result, Tensor};
use rayon::prelude::*;

use crate::model::kernels::cpu_values;
use crate::model::mlp::Mlp;

/// Optimiser steps between two updates of the average.
pub const EMA_EVERY: usize = 8;

/// Values per parallel chunk of an update.
const CHUNK: usize = 1 << 14;

/// The averaged weights and biases of one model, layer by layer (weights first, as
/// `Mlp::weights` then `Mlp::biases`).
pub struct WeightAverage {
    decay: f64,
    steps: usize,
    updates: usize,
    average: Vec<Vec<f32>>,
}

/// The contiguous values of each parameter of `model`, weights then biases.
fn with_parameters<T>(model: &Mlp, f: impl FnOnce(Vec<&[f32]>) -> T) -> Result<T> {
    let guards: Vec<_> = model
        .weights
        .iter()
        .chain(&model.biases)
        .map(|p| p.storage_and_layout())
        .collect();
    let slices = guards
        .iter()
        .map(|(storage, layout)| cpu_values(storage, layout, "weight average"))
        .collect::<Result<Vec<_>>>()?;
    Ok(f(slices))
}

impl WeightAverage {
    /// An average that starts at `model`'s weights, with per-step decay `decay` in (0, 1).
    pub fn new(model: &Mlp, decay: f64) -> Result<Self> {
        let average = with_parameters(model, |p| p.iter().map(|v| v.to_vec()).collect())?;
        Ok(Self {
            decay,
            steps: 0,
            updates: 0,
            average,
        })
    }

    /// Call after each optimiser step: every [`EMA_EVERY`]-th call folds the live weights in.
    pub fn after_step(&mut self, model: &Mlp) -> Result<()> {
        self.steps += 1;
        if !self.steps.is_multiple_of(EMA_EVERY) {
            return Ok(());
        }
        self.updates += 1;
        let n = self.updates as f64;
        let d = self
            .decay
            .powi(EMA_EVERY as i32)
            .min((1.0 + n) / (10.0 + n)) as f32;
        let average = &mut self.average;
        with_parameters(model, |live| {
            if live.len() != average.len()
                || live.iter().zip(&*average).any(|(l, a)| l.len() != a.len())
            {
                candle_core::bail!("the weight average was made for a model of another shape");
            }
            for (a, w) in average.iter_mut().zip(live) {
                a.par_chunks_mut(CHUNK)
                    .zip(w.par_chunks(CHUNK))
                    .for_each(|(a, w)| {
                        for (a, &w) in a.iter_mut().zip(w) {
                            *a = d * *a + (1.0 - d) * w;
                        }
                    });
            }
            Ok(())
        })?
    }

    /// The averaged model (a new one, with `like`'s shapes and device).
    pub fn model(&self, like: &Mlp) -> Result<Mlp> {
        let depth = like.weights.len();
        let tensor = |values: &Vec<f32>, like: &Tensor| {
            Tensor::from_slice(values, like.shape(), like.device())
        };
        let weights = self.average[..depth]
            .iter()
            .zip(&like.weights)
            .map(|(v, t)| tensor(v, t))
            .collect::<Result<Vec<_>>>()?;
        let biases = self.average[depth..]
            .iter()
            .zip(&like.biases)
            .map(|(v, t)| tensor(v, t))
            .collect::<Result<Vec<_>>>()?;
        Mlp::from_parameters(weights, biases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn constant_model(value: f32) -> Result<Mlp> {
        let device = Device::Cpu;
        Mlp::from_parameters(
            vec![Tensor::full(value, (3, 2), &device)?],
            vec![Tensor::full(value, 3, &device)?],
        )
    }

    fn first_value(model: &Mlp) -> Result<f32> {
        model.weights[0]
            .flatten_all()?
            .to_vec1::<f32>()
            .map(|v| v[0])
    }

    /// Start at 0, then the live weights jump to 1. Steps that are not an eighth leave the
    /// average alone; the first update (n = 1) uses d = min(0.9⁸ = 0.430, 2/11 = 0.182), so
    /// the average becomes 1 − 2/11 = 0.818.
    #[test]
    fn the_average_moves_by_the_capped_decay_every_eighth_step() -> Result<()> {
        let mut average = WeightAverage::new(&constant_model(0.0)?, 0.9)?;
        let live = constant_model(1.0)?;
        for _ in 0..EMA_EVERY - 1 {
            average.after_step(&live)?;
        }
        assert_eq!(first_value(&average.model(&live)?)?, 0.0);
        average.after_step(&live)?;
        let after_one = first_value(&average.model(&live)?)?;
        assert!((after_one - (1.0 - 2.0 / 11.0)).abs() < 1e-6, "{after_one}");
        // Much later the cap is above 0.9⁸ and the plain decay applies.
        for _ in 0..EMA_EVERY * 100 {
            average.after_step(&constant_model(0.0)?)?;
        }
        let before = first_value(&average.model(&live)?)?;
        for _ in 0..EMA_EVERY {
            average.after_step(&live)?;
        }
        let after = first_value(&average.model(&live)?)?;
        let d = 0.9f32.powi(8);
        assert!((after - (d * before + (1.0 - d))).abs() < 1e-6, "{after}");
        Ok(())
    }

    #[test]
    fn a_model_of_another_shape_is_refused() -> Result<()> {
        let mut average = WeightAverage::new(&constant_model(0.0)?, 0.9)?;
        let device = Device::Cpu;
        let other = Mlp::from_parameters(
            vec![Tensor::zeros((4, 2), candle_core::DType::F32, &device)?],
            vec![Tensor::zeros(4, candle_core::DType::F32, &device)?],
        )?;
        for _ in 0..EMA_EVERY - 1 {
            average.after_step(&other)?;
        }
        let err = average.after_step(&other).unwrap_err().to_string();
        assert!(err.contains("another shape"), "{err}");
        Ok(())
    }
}
