//! Optimisers (SGD with momentum, AdamW) and learning-rate schedules for the MLP.
//!
//! candle-nn's `SGD` has no momentum, and a candle `Var`-based optimiser would keep an autograd
//! graph alive; these update the MLP's parameter tensors in place, with plain `Vec<f32>` state.

use std::cell::RefCell;

use candle_core::{Result, Tensor};

use super::update::{AdamwUpdate, SgdUpdate};
use crate::config::{OptimConfig, OptimizerKind, Schedule};
use crate::model::kernels::cpu_values;
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
        Schedule::Cosine => {
            floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
        Schedule::Exponential => floor.max(1e-12).powf(progress),
    };
    config.lr * factor
}

/// Linear learning-rate warm-up: the factor (in (0, 1]) for batch `batch` (0-based) of epoch
/// `epoch` (0-based), rising to 1 over the first `warmup_epochs` epochs. Soft targets at high
/// T give gradients several times larger than hard labels early in training; without a
/// warm-up, SGD at the baseline's learning rate can kill a small student's ReLUs in the first
/// batches.
pub fn warmup_factor(config: &OptimConfig, epoch: usize, batch: usize, batches: usize) -> f64 {
    if config.warmup_epochs <= 0.0 || batches == 0 {
        return 1.0;
    }
    let done = (epoch * batches + batch + 1) as f64 / batches as f64;
    (done / config.warmup_epochs).min(1.0)
}

/// Optimiser state for one MLP: one buffer (two for AdamW) per parameter, updated in place
/// together with the parameter by the kernels of [`super::update`].
pub struct Optimizer {
    config: OptimConfig,
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
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

    /// One update of every parameter of `model` with learning rate `lr`, in place.
    ///
    /// SGD (PyTorch's form): `g ← g + λ·w`, `m ← μ·m + g`, `w ← w − lr·m`.
    /// AdamW: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
    /// `w ← w − lr·(m̂ / (√v̂ + ε) + λ·w)` with bias-corrected `m̂`, `v̂`.
    ///
    /// The parameter tensors are written in place: a model that shares storage with another
    /// (`Tensor::clone`, not [`Mlp::clone`]) would see the update too.
    pub fn step(&mut self, model: &mut Mlp, grads: &Gradients, lr: f64) -> Result<()> {
        self.step_parts(model, &[grads], lr)
    }

    /// [`step`](Self::step) with the gradient in parts (one per slice of a batch split across
    /// threads), which the update kernels sum as they read them.
    pub fn step_parts(&mut self, model: &mut Mlp, parts: &[&Gradients], lr: f64) -> Result<()> {
        let Some((grads, rest)) = parts.split_first() else {
            candle_core::bail!("an optimiser step needs at least one gradient");
        };
        self.steps += 1;
        let params: Vec<&Tensor> = model.weights.iter().chain(&model.biases).collect();
        let per_param = |g: &'_ Gradients| -> Vec<Tensor> {
            g.weights.iter().chain(&g.biases).cloned().collect()
        };
        let gradients = per_param(grads);
        let rest: Vec<Vec<Tensor>> = rest.iter().map(|g| per_param(g)).collect();
        if params.len() != gradients.len() || rest.iter().any(|r| r.len() != params.len()) {
            candle_core::bail!(
                "{} parameters but {} gradients",
                params.len(),
                gradients.len()
            );
        }
        let fresh = |params: &[&Tensor]| {
            params
                .iter()
                .map(|p| vec![0f32; p.elem_count()])
                .collect::<Vec<_>>()
        };
        if self.first.len() != params.len() {
            self.first = fresh(&params);
            self.second = if self.config.kind == OptimizerKind::Adamw {
                fresh(&params)
            } else {
                Vec::new()
            };
        }
        let c = &self.config;
        for (slot, (param, grad)) in params.into_iter().zip(&gradients).enumerate() {
            // The other parts' values, read in place (their storage stays locked for reading
            // while the update runs).
            let guards: Vec<_> = rest.iter().map(|r| r[slot].storage_and_layout()).collect();
            let extra = guards
                .iter()
                .map(|(storage, layout)| cpu_values(storage, layout, "gradient part"))
                .collect::<Result<Vec<_>>>()?;
            match c.kind {
                OptimizerKind::Sgd => param.inplace_op2(
                    grad,
                    &SgdUpdate {
                        lr: lr as f32,
                        momentum: c.momentum as f32,
                        weight_decay: c.weight_decay as f32,
                        velocity: RefCell::new(&mut self.first[slot]),
                        extra,
                    },
                )?,
                OptimizerKind::Adamw => param.inplace_op2(
                    grad,
                    &AdamwUpdate {
                        lr: lr as f32,
                        beta1: c.momentum as f32,
                        beta2: ADAM_BETA2 as f32,
                        eps: ADAM_EPS as f32,
                        weight_decay: c.weight_decay as f32,
                        m_correction: (1.0 / (1.0 - c.momentum.powi(self.steps))) as f32,
                        v_correction: (1.0 / (1.0 - ADAM_BETA2.powi(self.steps))) as f32,
                        first: RefCell::new(&mut self.first[slot]),
                        second: RefCell::new(&mut self.second[slot]),
                        extra,
                    },
                )?,
            }
        }
        Ok(())
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

    #[test]
    fn warmup_rises_linearly_to_one() {
        let config = OptimConfig {
            warmup_epochs: 0.5,
            ..OptimConfig::default()
        };
        assert!((warmup_factor(&config, 0, 0, 100) - 0.02).abs() < 1e-12);
        assert!((warmup_factor(&config, 0, 24, 100) - 0.5).abs() < 1e-12);
        assert_eq!(warmup_factor(&config, 0, 49, 100), 1.0);
        assert_eq!(warmup_factor(&config, 3, 0, 100), 1.0);
        let off = OptimConfig {
            warmup_epochs: 0.0,
            ..OptimConfig::default()
        };
        assert_eq!(warmup_factor(&off, 0, 0, 100), 1.0);
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

    /// Three AdamW steps on a 1×3 weight and a bias, with fixed gradients, a learning rate
    /// changed between steps, β = (0.8, 0.999), ε = 1e-8 and weight decay 0.05, against
    /// PyTorch 2.15's `torch.optim.AdamW`:
    ///
    /// ```python
    /// import torch
    /// w = torch.nn.Parameter(torch.tensor([[0.5, -1.0, 2.0]]))
    /// b = torch.nn.Parameter(torch.tensor([0.1]))
    /// opt = torch.optim.AdamW([w, b], lr=0.1, betas=(0.8, 0.999), eps=1e-8, weight_decay=0.05)
    /// steps = [(0.1, [0.3, -0.2, 1.0], 0.5), (0.05, [-0.1, 0.4, 0.5], -0.25),
    ///          (0.02, [0.2, 0.2, -2.0], 0.0)]
    /// for lr, gw, gb in steps:
    ///     opt.param_groups[0]["lr"] = lr
    ///     w.grad, b.grad = torch.tensor([gw]), torch.tensor([gb])
    ///     opt.step()
    ///     print([f"{v:.8f}" for v in w.detach().flatten().tolist()], f"{b.item():.8f}")
    /// # ['0.39750001', '-0.89499998', '1.88999999'] -0.00049999
    /// # ['0.37911114', '-0.91384119', '1.83959079'] -0.01104124
    /// # ['0.36689156', '-0.92428738', '1.84369791'] -0.01407902
    /// ```
    #[test]
    fn adamw_matches_pytorch() -> Result<()> {
        let device = Device::Cpu;
        let mut mlp = Mlp::from_parameters(
            vec![Tensor::new(&[[0.5f32, -1.0, 2.0]], &device)?],
            vec![Tensor::new(&[0.1f32], &device)?],
        )?;
        let mut opt = Optimizer::new(&OptimConfig {
            kind: OptimizerKind::Adamw,
            momentum: 0.8,
            weight_decay: 0.05,
            ..OptimConfig::default()
        });
        /// One step: learning rate, gradients, and PyTorch's parameters after it.
        struct Step {
            lr: f64,
            grad_w: [f32; 3],
            grad_b: f32,
            torch_w: [f64; 3],
            torch_b: f64,
        }
        let steps = [
            Step {
                lr: 0.1,
                grad_w: [0.3, -0.2, 1.0],
                grad_b: 0.5,
                torch_w: [0.397_500_01, -0.894_999_98, 1.889_999_99],
                torch_b: -0.000_499_99,
            },
            Step {
                lr: 0.05,
                grad_w: [-0.1, 0.4, 0.5],
                grad_b: -0.25,
                torch_w: [0.379_111_14, -0.913_841_19, 1.839_590_79],
                torch_b: -0.011_041_24,
            },
            Step {
                lr: 0.02,
                grad_w: [0.2, 0.2, -2.0],
                grad_b: 0.0,
                torch_w: [0.366_891_56, -0.924_287_38, 1.843_697_91],
                torch_b: -0.014_079_02,
            },
        ];
        for (n, step) in steps.iter().enumerate() {
            let grads = Gradients {
                weights: vec![Tensor::new(&[step.grad_w], &device)?],
                biases: vec![Tensor::new(&[step.grad_b], &device)?],
            };
            opt.step(&mut mlp, &grads, step.lr)?;
            let w: Vec<f32> = mlp.weights[0].flatten_all()?.to_vec1()?;
            let b: Vec<f32> = mlp.biases[0].to_vec1()?;
            let pairs = w
                .iter()
                .zip(step.torch_w)
                .chain(b.iter().zip([step.torch_b]));
            for (got, want) in pairs {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-6,
                    "step {}: {w:?} {b:?}",
                    n + 1
                );
            }
        }
        Ok(())
    }

    /// The tensor-expression form of both optimisers (the plain candle computation the in-place
    /// kernels replace), for one parameter.
    struct Reference {
        config: OptimConfig,
        first: Option<Tensor>,
        second: Option<Tensor>,
        steps: i32,
    }

    impl Reference {
        fn update(&mut self, param: &Tensor, grad: &Tensor, lr: f64) -> Result<Tensor> {
            self.steps += 1;
            let c = &self.config;
            match c.kind {
                OptimizerKind::Sgd => {
                    let g = if c.weight_decay > 0.0 {
                        grad.add(&param.affine(c.weight_decay, 0.0)?)?
                    } else {
                        grad.clone()
                    };
                    let m = match self.first.take() {
                        Some(m) if c.momentum > 0.0 => m.affine(c.momentum, 0.0)?.add(&g)?,
                        _ => g,
                    };
                    let updated = param.sub(&m.affine(lr, 0.0)?)?;
                    self.first = Some(m);
                    Ok(updated)
                }
                OptimizerKind::Adamw => {
                    let beta1 = c.momentum;
                    let m = match self.first.take() {
                        Some(m) => m.affine(beta1, 0.0)?.add(&grad.affine(1.0 - beta1, 0.0)?)?,
                        None => grad.affine(1.0 - beta1, 0.0)?,
                    };
                    let v = match self.second.take() {
                        Some(v) => v
                            .affine(ADAM_BETA2, 0.0)?
                            .add(&grad.sqr()?.affine(1.0 - ADAM_BETA2, 0.0)?)?,
                        None => grad.sqr()?.affine(1.0 - ADAM_BETA2, 0.0)?,
                    };
                    let m_hat = m.affine(1.0 / (1.0 - beta1.powi(self.steps)), 0.0)?;
                    let v_hat = v.affine(1.0 / (1.0 - ADAM_BETA2.powi(self.steps)), 0.0)?;
                    let direction = m_hat.div(&v_hat.sqrt()?.affine(1.0, ADAM_EPS)?)?;
                    let decayed = param.affine(1.0 - lr * c.weight_decay, 0.0)?;
                    self.first = Some(m);
                    self.second = Some(v);
                    decayed.sub(&direction.affine(lr, 0.0)?)
                }
            }
        }
    }

    /// Four steps of the in-place SGD (with and without weight decay) and AdamW equal the
    /// tensor-expression form on random weights and gradients.
    #[test]
    fn in_place_updates_match_the_tensor_expressions() -> Result<()> {
        let device = Device::Cpu;
        let configs = [
            OptimConfig {
                momentum: 0.9,
                ..OptimConfig::default()
            },
            OptimConfig {
                momentum: 0.9,
                weight_decay: 0.01,
                ..OptimConfig::default()
            },
            OptimConfig {
                momentum: 0.0,
                ..OptimConfig::default()
            },
            OptimConfig {
                kind: OptimizerKind::Adamw,
                momentum: 0.9,
                weight_decay: 0.05,
                ..OptimConfig::default()
            },
        ];
        for config in configs {
            let w = Tensor::randn(0f32, 1.0, (5, 3), &device)?;
            let b = Tensor::randn(0f32, 1.0, 5, &device)?;
            let mut mlp = Mlp::from_parameters(vec![w.copy()?], vec![b.copy()?])?;
            let mut opt = Optimizer::new(&config);
            let mut reference = (
                Reference {
                    config: config.clone(),
                    first: None,
                    second: None,
                    steps: 0,
                },
                Reference {
                    config: config.clone(),
                    first: None,
                    second: None,
                    steps: 0,
                },
            );
            let (mut w_ref, mut b_ref) = (w, b);
            for step in 0..4 {
                let grads = Gradients {
                    weights: vec![Tensor::randn(0f32, 1.0, (5, 3), &device)?],
                    biases: vec![Tensor::randn(0f32, 1.0, 5, &device)?],
                };
                let lr = 0.1 / f64::from(step + 1);
                opt.step(&mut mlp, &grads, lr)?;
                w_ref = reference.0.update(&w_ref, &grads.weights[0], lr)?;
                b_ref = reference.1.update(&b_ref, &grads.biases[0], lr)?;
                let diff = |a: &Tensor, b: &Tensor| -> Result<f32> {
                    a.sub(b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
                };
                assert!(
                    diff(&mlp.weights[0], &w_ref)? < 1e-5,
                    "{:?} step {step}",
                    config.kind
                );
                assert!(
                    diff(&mlp.biases[0], &b_ref)? < 1e-5,
                    "{:?} step {step}",
                    config.kind
                );
            }
        }
        Ok(())
    }
}
