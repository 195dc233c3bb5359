//! In-place optimiser updates as candle [`InplaceOp2`]s: one pass over parameter, gradient and
//! state, no allocation.
//!
//! The tensor-expression form (`m.affine(μ).add(g)`, `w.sub(m.affine(lr))`) allocated four
//! parameter-sized tensors per parameter per step — 10 MB a step for the student's first layer
//! alone — and the page faults of those fresh allocations showed in profiles. Here the state
//! lives in plain `Vec<f32>`s owned by the optimiser and the parameter tensor is written in
//! place. Tests in `optim.rs` pin both updates to the tensor-expression form.

use std::cell::RefCell;

use candle_core::{CpuStorage, InplaceOp2, Layout, Result};

use crate::model::kernels::{values, values_mut};

/// Checks that parameter, gradient and state have the same number of values.
fn check_lengths(op: &str, param: usize, grad: usize, state: usize) -> Result<()> {
    if param != grad || param != state {
        candle_core::bail!("{op}: parameter has {param} values, gradient {grad}, state {state}");
    }
    Ok(())
}

/// SGD with momentum (PyTorch's form) on a parameter `w` with gradient `g`:
/// `g ← g + λ·w`, `m ← μ·m + g`, `w ← w − lr·m`. A zero `m` makes the first step `m = g`.
pub struct SgdUpdate<'a> {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ.
    pub momentum: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
    /// The momentum buffer `m`, one value per parameter value.
    pub velocity: RefCell<&'a mut [f32]>,
}

impl InplaceOp2 for SgdUpdate<'_> {
    fn name(&self) -> &'static str {
        "sgd-momentum"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let name = InplaceOp2::name(self);
        let grad = values(s2, l2, name)?;
        let w = values_mut(s1, l1, name)?;
        let mut velocity = self.velocity.borrow_mut();
        check_lengths(name, w.len(), grad.len(), velocity.len())?;
        let (lr, mu, wd) = (self.lr, self.momentum, self.weight_decay);
        // Two loops rather than a branch per element, so both vectorise.
        if wd > 0.0 {
            for ((w, g), m) in w.iter_mut().zip(grad).zip(velocity.iter_mut()) {
                *m = mu * *m + (g + wd * *w);
                *w -= lr * *m;
            }
        } else {
            for ((w, g), m) in w.iter_mut().zip(grad).zip(velocity.iter_mut()) {
                *m = mu * *m + g;
                *w -= lr * *m;
            }
        }
        Ok(())
    }
}

/// AdamW (Loshchilov & Hutter) on a parameter `w` with gradient `g`, at step `t` (from 1):
/// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
/// `w ← w·(1 − lr·λ) − lr·m̂ / (√v̂ + ε)` with `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`.
pub struct AdamwUpdate<'a> {
    /// Learning rate.
    pub lr: f32,
    /// β1.
    pub beta1: f32,
    /// β2.
    pub beta2: f32,
    /// ε.
    pub eps: f32,
    /// Decoupled weight decay λ.
    pub weight_decay: f32,
    /// `1/(1−β1ᵗ)`.
    pub m_correction: f32,
    /// `1/(1−β2ᵗ)`.
    pub v_correction: f32,
    /// First moments `m`.
    pub first: RefCell<&'a mut [f32]>,
    /// Second moments `v`.
    pub second: RefCell<&'a mut [f32]>,
}

impl InplaceOp2 for AdamwUpdate<'_> {
    fn name(&self) -> &'static str {
        "adamw"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let name = InplaceOp2::name(self);
        let grad = values(s2, l2, name)?;
        let w = values_mut(s1, l1, name)?;
        let mut first = self.first.borrow_mut();
        let mut second = self.second.borrow_mut();
        check_lengths(name, w.len(), grad.len(), first.len())?;
        check_lengths(name, w.len(), grad.len(), second.len())?;
        let decay = 1.0 - self.lr * self.weight_decay;
        let (b1, b2) = (self.beta1, self.beta2);
        for (((w, g), m), v) in w
            .iter_mut()
            .zip(grad)
            .zip(first.iter_mut())
            .zip(second.iter_mut())
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let direction = (*m * self.m_correction) / ((*v * self.v_correction).sqrt() + self.eps);
            *w = *w * decay - self.lr * direction;
        }
        Ok(())
    }
}
