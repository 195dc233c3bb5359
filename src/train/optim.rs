//! Optimisers (SGD with momentum, AdamW) and learning-rate schedules for the MLP.
//!
//! candle-nn's `SGD` has no momentum, and a candle `Var`-based optimiser would keep an autograd
//! graph alive; these work directly on the MLP's parameter tensors with detached state.

use candle_core::{Result, Tensor};

use crate::config::{OptimConfig, OptimizerKind, Schedule};
use crate::model::mlp::{Gradients, Mlp};

/// Learning rate of epoch `epoch` (0-based) of `epochs`.
pub fn learning_rate(config: &OptimConfig, epoch: usize, epochs: usize) -> f64 {
    let progress = if epochs <= 1 {
        0.0
    } else {
        epoch as f64 / (epochs - 1) as f64
    };
    let floor = config.final_lr_fraction;
    let factor = match config.schedule {
        Schedule::Constant => 1.0,
        Schedule::Cosine => floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        Schedule::Exponential => floor.max(1e-12).powf(progress),
    };
    config.lr * factor
}

/// Optimiser state for one MLP: one buffer (two for AdamW) per parameter.
pub struct Optimizer {
    config: OptimConfig,
    first: Vec<Option<Tensor>>,
    second: Vec<Option<Tensor>>,
    steps: i32,
}

const ADAM_BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;

impl Optimizer {
    /// A fresh optimiser.
    pub fn new(config: &OptimConfig) -> Self {
        Self {
            config: config.clone(),
            first: Vec::new(),
            second: Vec::new(),
            steps: 0,
        }
    }

    /// One update of every parameter of `model` with learning rate `lr`.
    ///
    /// SGD (PyTorch's form): `g ← g + λ·w`, `m ← μ·m + g`, `w ← w − lr·m`.
    /// AdamW: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
    /// `w ← w − lr·(m̂ / (√v̂ + ε) + λ·w)` with bias-corrected `m̂`, `v̂`.
    pub fn step(&mut self, model: &mut Mlp, grads: &Gradients, lr: f64) -> Result<()> {
        self.steps += 1;
        let n = model.weights.len();
        if self.first.len() != 2 * n {
            self.first = vec![None; 2 * n];
            self.second = vec![None; 2 * n];
        }
        for l in 0..n {
            model.weights[l] = self.update(l, &model.weights[l], &grads.weights[l], lr)?;
            model.biases[l] = self.update(n + l, &model.biases[l], &grads.biases[l], lr)?;
        }
        Ok(())
    }

    fn update(&mut self, slot: usize, param: &Tensor, grad: &Tensor, lr: f64) -> Result<Tensor> {
        let c = &self.config;
        match c.kind {
            OptimizerKind::Sgd => {
                let g = if c.weight_decay > 0.0 {
                    grad.add(&param.affine(c.weight_decay, 0.0)?)?
                } else {
                    grad.clone()
                };
                let m = match self.first[slot].take() {
                    Some(m) if c.momentum > 0.0 => m.affine(c.momentum, 0.0)?.add(&g)?,
                    _ => g,
                };
                let updated = param.sub(&m.affine(lr, 0.0)?)?;
                self.first[slot] = Some(m.detach());
                Ok(updated.detach())
            }
            OptimizerKind::Adamw => {
                let beta1 = c.momentum;
                let m = match self.first[slot].take() {
                    Some(m) => m.affine(beta1, 0.0)?.add(&grad.affine(1.0 - beta1, 0.0)?)?,
                    None => grad.affine(1.0 - beta1, 0.0)?,
                };
                let v = match self.second[slot].take() {
                    Some(v) => v
                        .affine(ADAM_BETA2, 0.0)?
                        .add(&grad.sqr()?.affine(1.0 - ADAM_BETA2, 0.0)?)?,
                    None => grad.sqr()?.affine(1.0 - ADAM_BETA2, 0.0)?,
                };
                let m_hat = m.affine(1.0 / (1.0 - beta1.powi(self.steps)), 0.0)?;
                let v_hat = v.affine(1.0 / (1.0 - ADAM_BETA2.powi(self.steps)), 0.0)?;
                let direction = m_hat.div(&v_hat.sqrt()?.affine(1.0, ADAM_EPS)?)?;
                let decayed = param.affine(1.0 - lr * c.weight_decay, 0.0)?;
                let updated = decayed.sub(&direction.affine(lr, 0.0)?)?;
                self.first[slot] = Some(m.detach());
                self.second[slot] = Some(v.detach());
                Ok(updated.detach())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedules_start_at_lr_and_end_at_the_floor() {
        let mut config = OptimConfig {
            lr: 0.1,
            final_lr_fraction: 0.01,
            ..OptimConfig::default()
        };
        for schedule in [Schedule::Cosine, Schedule::Exponential] {
            config.schedule = schedule;
            assert!((learning_rate(&config, 0, 10) - 0.1).abs() < 1e-12);
            assert!((learning_rate(&config, 9, 10) - 0.001).abs() < 1e-12);
            assert!(learning_rate(&config, 5, 10) < 0.1);
        }
        config.schedule = Schedule::Constant;
        assert_eq!(learning_rate(&config, 9, 10), 0.1);
    }

    /// Two SGD steps with momentum 0.9 on w = 1, g = 1, lr = 0.1 (PyTorch gives 0.9, then 0.71).
    #[test]
    fn sgd_momentum_matches_pytorch() -> Result<()> {
        let device = Device::Cpu;
        let mut mlp = Mlp::from_parameters(
            vec![Tensor::new(&[[1f32]], &device)?],
            vec![Tensor::new(&[0f32], &device)?],
        )?;
        let grads = || -> Result<Gradients> {
            Ok(Gradients {
                weights: vec![Tensor::new(&[[1f32]], &device)?],
                biases: vec![Tensor::new(&[0f32], &device)?],
            })
        };
        let mut opt = Optimizer::new(&OptimConfig {
            momentum: 0.9,
            ..OptimConfig::default()
        });
        opt.step(&mut mlp, &grads()?, 0.1)?;
        let w: Vec<Vec<f32>> = mlp.weights[0].to_vec2()?;
        assert!((w[0][0] - 0.9).abs() < 1e-6);
        opt.step(&mut mlp, &grads()?, 0.1)?;
        let w: Vec<Vec<f32>> = mlp.weights[0].to_vec2()?;
        assert!((w[0][0] - 0.71).abs() < 1e-6, "{w:?}");
        Ok(())
    }
}
