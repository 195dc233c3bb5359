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
use rayon::prelude::*;

use crate::model::kernels::{values, values_mut};

/// Checks that parameter, gradient and state have the same number of values.
fn check_lengths(op: &str, param: usize, grad: usize, state: usize) -> Result<()> {
    if param != grad || param != state {
        candle_core::bail!("{op}: parameter has {param} values, gradient {grad}, state {state}");
    }
    Ok(())
}

/// Parameters with fewer values than this are updated on the calling thread: splitting a small
/// update costs more than it saves.
const PARALLEL_MIN: usize = 1 << 15;

/// Values summed per block when a gradient comes in parts: small enough to stay in L1.
const SUM_BLOCK: usize = 4096;

/// Runs `update` over matching chunks of a parameter, its gradient and one or two state
/// buffers, on every thread of the pool when the parameter is large. An element-wise update is
/// memory-bound; on one thread it left the second core idle between the matrix products.
///
/// `extra` holds the gradient's other parts (a batch split across threads yields one per part):
/// they are added to `g` block by block just before the update reads it, so summing the parts
/// costs no pass over memory of its own.
fn par_update(
    w: &mut [f32],
    g: &[f32],
    extra: &[&[f32]],
    a: &mut [f32],
    b: &mut [f32],
    update: impl Fn(&mut [f32], &[f32], &mut [f32], &mut [f32]) + Sync,
) {
    // `start`: where this chunk begins in the whole parameter (to index the extra parts).
    let run = |start: usize, w: &mut [f32], g: &[f32], a: &mut [f32], b: &mut [f32]| {
        if extra.is_empty() {
            update(w, g, a, b);
            return;
        }
        let mut sum = [0f32; SUM_BLOCK];
        let mut from = 0;
        while from < w.len() {
            let to = (from + SUM_BLOCK).min(w.len());
            let block = &mut sum[..to - from];
            block.copy_from_slice(&g[from..to]);
            for part in extra {
                for (s, x) in block.iter_mut().zip(&part[start + from..start + to]) {
                    *s += x;
                }
            }
            let b = if b.is_empty() {
                &mut [][..]
            } else {
                &mut b[from..to]
            };
            update(&mut w[from..to], block, &mut a[from..to], b);
            from = to;
        }
    };
    if w.len() < PARALLEL_MIN {
        run(0, w, g, a, b);
        return;
    }
    let chunk = w
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(PARALLEL_MIN / 4);
    // `b` is empty for single-state optimisers: give each chunk an empty slice then.
    let mut b_parts: Vec<&mut [f32]> = if b.is_empty() {
        std::iter::repeat_with(<&mut [f32]>::default)
            .take(w.len().div_ceil(chunk))
            .collect()
    } else {
        b.chunks_mut(chunk).collect()
    };
    w.par_chunks_mut(chunk)
        .zip(g.par_chunks(chunk))
        .zip(a.par_chunks_mut(chunk))
        .zip(b_parts.par_iter_mut())
        .enumerate()
        .for_each(|(i, (((w, g), a), b))| run(i * chunk, w, g, a, b));
}

/// Checks that every extra gradient part has the parameter's length.
fn check_extra(op: &str, param: usize, extra: &[&[f32]]) -> Result<()> {
    for part in extra {
        if part.len() != param {
            candle_core::bail!(
                "{op}: parameter has {param} values, a gradient part {}",
                part.len()
            );
        }
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
    /// The gradient's other parts, added to it (empty: the gradient is whole).
    pub extra: Vec<&'a [f32]>,
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
        check_extra(name, w.len(), &self.extra)?;
        let (lr, mu, wd) = (self.lr, self.momentum, self.weight_decay);
        par_update(
            w,
            grad,
            &self.extra,
            &mut velocity,
            &mut [],
            |w, grad, velocity, _| {
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
            },
        );
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
    /// The gradient's other parts, added to it (empty: the gradient is whole).
    pub extra: Vec<&'a [f32]>,
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
        check_extra(name, w.len(), &self.extra)?;
        let decay = 1.0 - self.lr * self.weight_decay;
        let (b1, b2) = (self.beta1, self.beta2);
        let (lr, eps, mc, vc) = (self.lr, self.eps, self.m_correction, self.v_correction);
        par_update(
            w,
            grad,
            &self.extra,
            &mut first,
            &mut second,
            |w, grad, first, second| {
                for (((w, g), m), v) in w
                    .iter_mut()
                    .zip(grad)
                    .zip(first.iter_mut())
                    .zip(second.iter_mut())
                {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    let direction = (*m * mc) / ((*v * vc).sqrt() + eps);
                    *w = *w * decay - lr * direction;
                }
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// A parameter big enough to be split across threads, plus its gradient and states.
    fn inputs(n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let wave = |k: f32| {
            (0..n)
                .map(move |i| ((i as f32) * k).sin())
                .collect::<Vec<_>>()
        };
        let second: Vec<f32> = wave(0.11).iter().map(|x| x * x).collect();
        (wave(0.37), wave(0.73), wave(0.19), second)
    }

    /// The SGD update every test uses (lr 0.05, momentum 0.9).
    fn sgd<'a>(weight_decay: f32, velocity: &'a mut [f32], extra: Vec<&'a [f32]>) -> SgdUpdate<'a> {
        SgdUpdate {
            lr: 0.05,
            momentum: 0.9,
            weight_decay,
            velocity: RefCell::new(velocity),
            extra,
        }
    }

    /// The AdamW update every test uses (step 3, lr 1e-3, weight decay 0.01).
    fn adamw<'a>(
        first: &'a mut [f32],
        second: &'a mut [f32],
        extra: Vec<&'a [f32]>,
    ) -> AdamwUpdate<'a> {
        AdamwUpdate {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            m_correction: 1.0 / (1.0 - 0.9f32.powi(3)),
            v_correction: 1.0 / (1.0 - 0.999f32.powi(3)),
            first: RefCell::new(first),
            second: RefCell::new(second),
            extra,
        }
    }

    #[test]
    fn split_updates_equal_the_one_thread_loop_value_for_value() {
        // Odd length, several times the split threshold: the chunks' ends must line up across
        // parameter, gradient and every state buffer.
        let n = 5 * PARALLEL_MIN + 17;
        let (w0, g, m0, v0) = inputs(n);
        let device = Device::Cpu;

        for wd in [0.0f32, 0.01] {
            let w = Tensor::from_slice(&w0, n, &device).unwrap();
            let grad = Tensor::from_slice(&g, n, &device).unwrap();
            let mut m = m0.clone();
            w.inplace_op2(&grad, &sgd(wd, &mut m, Vec::new())).unwrap();
            let (mut w_ref, mut m_ref) = (w0.clone(), m0.clone());
            for i in 0..n {
                m_ref[i] = 0.9 * m_ref[i] + (g[i] + wd * w_ref[i]);
                w_ref[i] -= 0.05 * m_ref[i];
            }
            assert_eq!(w.to_vec1::<f32>().unwrap(), w_ref, "sgd weights, wd {wd}");
            assert_eq!(m, m_ref, "sgd momentum, wd {wd}");
        }

        let w = Tensor::from_slice(&w0, n, &device).unwrap();
        let grad = Tensor::from_slice(&g, n, &device).unwrap();
        let (mut m, mut v) = (m0.clone(), v0.clone());
        let (lr, eps, weight_decay, m_correction, v_correction) = {
            let op = adamw(&mut m, &mut v, Vec::new());
            w.inplace_op2(&grad, &op).unwrap();
            (
                op.lr,
                op.eps,
                op.weight_decay,
                op.m_correction,
                op.v_correction,
            )
        };
        let (mut w_ref, mut m_ref, mut v_ref) = (w0.clone(), m0.clone(), v0.clone());
        let decay = 1.0 - lr * weight_decay;
        for i in 0..n {
            m_ref[i] = 0.9 * m_ref[i] + (1.0 - 0.9) * g[i];
            v_ref[i] = 0.999 * v_ref[i] + (1.0 - 0.999) * g[i] * g[i];
            let direction = (m_ref[i] * m_correction) / ((v_ref[i] * v_correction).sqrt() + eps);
            w_ref[i] = w_ref[i] * decay - lr * direction;
        }
        assert_eq!(w.to_vec1::<f32>().unwrap(), w_ref, "adamw weights");
        assert_eq!(m, m_ref, "adamw first moments");
        assert_eq!(v, v_ref, "adamw second moments");
    }

    /// A gradient in three parts updates exactly as their sum does (both optimisers, split
    /// across threads and blocks with unaligned ends).
    #[test]
    fn gradient_parts_update_as_their_sum() {
        let n = 3 * PARALLEL_MIN + 4097;
        let (w0, g, m0, v0) = inputs(n);
        let (_, g2, g3, _) = inputs(n);
        let g3: Vec<f32> = g3.iter().map(|x| 0.5 * x).collect();
        let sum: Vec<f32> = (0..n).map(|i| g[i] + g2[i] + g3[i]).collect();
        let device = Device::Cpu;
        let grad = Tensor::from_slice(&g, n, &device).unwrap();
        let whole = Tensor::from_slice(&sum, n, &device).unwrap();

        let sgd_step = |grad: &Tensor, extra: Vec<&[f32]>| {
            let w = Tensor::from_slice(&w0, n, &device).unwrap();
            let mut m = m0.clone();
            w.inplace_op2(grad, &sgd(0.01, &mut m, extra)).unwrap();
            (w.to_vec1::<f32>().unwrap(), m)
        };
        let (w_parts, m_parts) = sgd_step(&grad, vec![&g2, &g3]);
        let (w_sum, m_sum) = sgd_step(&whole, Vec::new());
        assert_eq!(w_parts, w_sum);
        assert_eq!(m_parts, m_sum);

        let adamw_step = |grad: &Tensor, extra: Vec<&[f32]>| {
            let w = Tensor::from_slice(&w0, n, &device).unwrap();
            let (mut m, mut v) = (m0.clone(), v0.clone());
            w.inplace_op2(grad, &adamw(&mut m, &mut v, extra)).unwrap();
            (w.to_vec1::<f32>().unwrap(), m, v)
        };
        assert_eq!(
            adamw_step(&grad, vec![&g2, &g3]),
            adamw_step(&whole, Vec::new())
        );

        // A part of the wrong length is refused, not read out of bounds.
        let short = vec![0f32; n - 1];
        let w = Tensor::from_slice(&w0, n, &device).unwrap();
        let mut m = m0.clone();
        let refused = w.inplace_op2(&grad, &sgd(0.0, &mut m, vec![&short]));
        assert!(refused.unwrap_err().to_string().contains("a gradient part"));
    }
}
