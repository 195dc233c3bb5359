//! Fused CPU kernels for the MLP's hand-written training pass, as candle in-place and custom ops.
//!
//! Written with candle's element-wise ops, one training step of the MLP allocated a dozen
//! activation-sized tensors (bias broadcast, ReLU comparison, its cast to f32, the dropout mask,
//! two products) and reduced bias gradients with a strided `sum(0)`; profiles showed those
//! passes, the page faults of their fresh allocations, and candle's element-wise thread pool
//! spinning against the GEMM threads costing as much as the GEMMs of a student epoch. Each
//! kernel here makes one pass over memory candle already allocated (the GEMM output), in place:
//!
//! - [`BiasActivation`]: `z ← z + b`, then for a hidden layer `h ← relu(z) · mask` with an
//!   inverted-dropout mask drawn in the same pass ([`FastRng::apply_dropout`], the same stream
//!   as [`FastRng::dropout_mask`]);
//! - [`Dropout`]: the input pixels' dropout, in place;
//! - [`ReluDropoutGrad`]: `dz ← da ⊙ gate` where `gate = keep · [h > 0]` is recomputed from the
//!   layer's output `h` (for `h = relu(z)·mask` with `mask ∈ {0, keep}`, `h > 0` exactly when
//!   `z > 0` and the unit was kept), so no gate or mask tensor is ever stored;
//! - [`ColumnSum`]: `db = Σ_b dz_b`, a contiguous row-by-row accumulation;
//! - [`MaxNorm`]: rescales rows of `W` to an L2 norm of at most `c`.
//!
//! The kernels are single-threaded: they are memory-bound and small (a batch of 128 × 1200
//! floats is 600 KB), and the GEMMs keep both cores. Tests in this module pin each one to the
//! plain candle computation it replaces.

use std::cell::RefCell;

use candle_core::{
    CpuStorage, CustomOp1, InplaceOp1, InplaceOp2, Layout, Result, Shape, Storage, Tensor,
};

use crate::rng::FastRng;

/// The contiguous `f32` values of a storage as a mutable slice (shared with the in-place
/// optimiser updates in `train::update`).
pub(crate) fn values_mut<'a>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
    op: &str,
) -> Result<&'a mut [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("{op}: only f32 tensors are supported");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: the tensor must be contiguous");
    };
    Ok(&mut values[start..end])
}

/// The contiguous `f32` values of a storage.
pub(crate) fn values<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("{op}: only f32 tensors are supported");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: the tensor must be contiguous");
    };
    Ok(&values[start..end])
}

/// The contiguous `f32` values of a tensor's storage (from `Tensor::storage_and_layout`), which
/// must be on the CPU: how the optimiser reads gradient parts and the weight average reads
/// parameters in place.
pub(crate) fn cpu_values<'a>(storage: &'a Storage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    match storage {
        Storage::Cpu(cpu) => values(cpu, layout, op),
        _ => candle_core::bail!("{op}: the tensor must be on the CPU"),
    }
}

/// The `(rows, cols)` of a rank-2 layout.
fn dims2(layout: &Layout, op: &str) -> Result<(usize, usize)> {
    match layout.dims() {
        [rows, cols] => Ok((*rows, *cols)),
        other => candle_core::bail!("{op}: expected a matrix, got shape {other:?}"),
    }
}

/// In place on `z` `[B, n]` with `bias` `[n]`: `z ← z + b`; with `relu`, then `z ← max(z, 0)`;
/// with dropout probability `p > 0`, then each value is zeroed with probability `p` and the rest
/// scaled by `1/(1 − p)`, the decisions drawn from `rng` row after row.
pub struct BiasActivation<'a> {
    /// Apply ReLU after the bias (hidden layers).
    pub relu: bool,
    /// Dropout probability (0: none).
    pub dropout: f64,
    /// Source of the dropout decisions (unused when `dropout` is 0).
    pub rng: RefCell<&'a mut FastRng>,
}

impl InplaceOp2 for BiasActivation<'_> {
    fn name(&self) -> &'static str {
        "bias-relu-dropout"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let name = InplaceOp2::name(self);
        let (_, cols) = dims2(l1, name)?;
        let bias = values(s2, l2, name)?;
        if bias.len() != cols {
            candle_core::bail!("{name}: bias has {} values for {cols} columns", bias.len());
        }
        let z = values_mut(s1, l1, name)?;
        for row in z.chunks_exact_mut(cols) {
            if self.relu {
                for (v, b) in row.iter_mut().zip(bias) {
                    *v = (*v + b).max(0.0);
                }
            } else {
                for (v, b) in row.iter_mut().zip(bias) {
                    *v += b;
                }
            }
        }
        if self.dropout > 0.0 {
            self.rng
                .borrow_mut()
                .apply_dropout(self.dropout, z)
                .map_err(candle_core::Error::wrap)?;
        }
        Ok(())
    }
}

/// In place: inverted dropout with probability `p` (zero with probability `p`, else scale by
/// `1/(1 − p)`), decisions drawn from `rng`.
pub struct Dropout<'a> {
    /// Dropout probability.
    pub p: f64,
    /// Source of the decisions.
    pub rng: RefCell<&'a mut FastRng>,
}

impl InplaceOp1 for Dropout<'_> {
    fn name(&self) -> &'static str {
        "dropout"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let x = values_mut(storage, layout, InplaceOp1::name(self))?;
        self.rng
            .borrow_mut()
            .apply_dropout(self.p, x)
            .map_err(candle_core::Error::wrap)
    }
}

/// In place on `da` with the layer output `h` (same shape): `da ← keep · da` where `h > 0`,
/// else 0 — the backward pass of `h = relu(z) · mask` with `mask ∈ {0, keep}`.
pub struct ReluDropoutGrad {
    /// `1/(1 − p)` of the layer's dropout (1 without dropout).
    pub keep: f32,
}

impl InplaceOp2 for ReluDropoutGrad {
    fn name(&self) -> &'static str {
        "relu-dropout-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let name = InplaceOp2::name(self);
        let h = values(s2, l2, name)?;
        let da = values_mut(s1, l1, name)?;
        if h.len() != da.len() {
            candle_core::bail!("{name}: {} gradients for {} activations", da.len(), h.len());
        }
        let keep = self.keep;
        for (d, a) in da.iter_mut().zip(h) {
            *d = if *a > 0.0 { *d * keep } else { 0.0 };
        }
        Ok(())
    }
}

/// `[B, n]` → `[n]`: the sum of the rows (the bias gradient `Σ_b dz_b`).
pub struct ColumnSum;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "column-sum"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let name = CustomOp1::name(self);
        let (_, cols) = dims2(layout, name)?;
        let x = values(storage, layout, name)?;
        let mut sum = vec![0f32; cols];
        for row in x.chunks_exact(cols) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        Ok((CpuStorage::F32(sum), Shape::from(cols)))
    }
}

/// In place on `W` `[out, in]`: each row with an L2 norm above `max_norm` is scaled down to
/// exactly `max_norm` (Srivastava et al. 2014); the others are left alone.
pub struct MaxNorm {
    /// The cap `c` on each row's norm.
    pub max_norm: f64,
}

impl InplaceOp1 for MaxNorm {
    fn name(&self) -> &'static str {
        "max-norm"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let name = InplaceOp1::name(self);
        let (_, cols) = dims2(layout, name)?;
        let w = values_mut(storage, layout, name)?;
        for row in w.chunks_exact_mut(cols) {
            let norm = row
                .iter()
                .map(|v| f64::from(*v) * f64::from(*v))
                .sum::<f64>()
                .sqrt();
            if norm > self.max_norm {
                let scale = (self.max_norm / norm) as f32;
                row.iter_mut().for_each(|v| *v *= scale);
            }
        }
        Ok(())
    }
}

/// `z + b` then ReLU (hidden) and dropout, in place on `z` (see [`BiasActivation`]).
pub fn bias_activation(
    z: &Tensor,
    bias: &Tensor,
    relu: bool,
    dropout: f64,
    rng: &mut FastRng,
) -> Result<()> {
    z.inplace_op2(
        bias,
        &BiasActivation {
            relu,
            dropout,
            rng: RefCell::new(rng),
        },
    )
}

/// Inverted dropout with probability `p`, in place on `x`.
pub fn dropout(x: &Tensor, p: f64, rng: &mut FastRng) -> Result<()> {
    x.inplace_op1(&Dropout {
        p,
        rng: RefCell::new(rng),
    })
}

/// `da ← da ⊙ keep·[h > 0]`, in place on `da` (see [`ReluDropoutGrad`]).
pub fn relu_dropout_grad(da: &Tensor, h: &Tensor, keep: f32) -> Result<()> {
    da.inplace_op2(h, &ReluDropoutGrad { keep })
}

/// Sum of the rows of a `[B, n]` matrix.
pub fn column_sum(x: &Tensor) -> Result<Tensor> {
    x.apply_op1_no_bwd(&ColumnSum)
}

/// Caps each row's L2 norm at `max_norm`, in place.
pub fn max_norm(w: &Tensor, max_norm: f64) -> Result<()> {
    w.inplace_op1(&MaxNorm { max_norm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        a.sub(b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    /// Values: the fused op equals `relu(z + b) ⊙ mask` with the mask of `dropout_mask` drawn
    /// from the same stream. Gradients: `ReluDropoutGrad` equals autograd of that expression.
    #[test]
    fn bias_relu_dropout_matches_plain_candle_values_and_gradients() -> Result<()> {
        let device = Device::Cpu;
        let (rows, cols, p) = (5, 37, 0.5);
        let z = Tensor::randn(0f32, 1.0, (rows, cols), &device)?;
        let b = Tensor::randn(0f32, 1.0, cols, &device)?;

        let mut mask = vec![0f32; rows * cols];
        FastRng::new(9)
            .dropout_mask(p, &mut mask)
            .map_err(candle_core::Error::wrap)?;
        let mask = Tensor::from_vec(mask, (rows, cols), &device)?;
        let zv = Var::from_tensor(&z)?;
        let plain = zv.as_tensor().broadcast_add(&b)?.relu()?.mul(&mask)?;

        let fused = z.copy()?;
        bias_activation(&fused, &b, true, p, &mut FastRng::new(9))?;
        assert!(max_diff(&plain, &fused)? < 1e-6);

        let upstream = Tensor::randn(0f32, 1.0, (rows, cols), &device)?;
        let store = plain.mul(&upstream)?.sum_all()?.backward()?;
        let Some(expected) = store.get(zv.as_tensor()) else {
            panic!("no gradient for z");
        };
        let grad = upstream.copy()?;
        relu_dropout_grad(&grad, &fused, (1.0 / (1.0 - p)) as f32)?;
        assert!(max_diff(expected, &grad)? < 1e-6);
        Ok(())
    }

    /// Without ReLU and dropout (the output layer) the op is a broadcast add; with ReLU only,
    /// `relu(z + b)` and its gradient `[z + b > 0]`.
    #[test]
    fn bias_and_relu_without_dropout_match_plain_candle() -> Result<()> {
        let device = Device::Cpu;
        let z = Tensor::randn(0f32, 1.0, (4, 9), &device)?;
        let b = Tensor::randn(0f32, 1.0, 9, &device)?;
        let mut rng = FastRng::new(1);
        let linear = z.copy()?;
        bias_activation(&linear, &b, false, 0.0, &mut rng)?;
        assert!(max_diff(&linear, &z.broadcast_add(&b)?)? < 1e-6);

        let zv = Var::from_tensor(&z)?;
        let plain = zv.as_tensor().broadcast_add(&b)?.relu()?;
        let fused = z.copy()?;
        bias_activation(&fused, &b, true, 0.0, &mut rng)?;
        assert!(max_diff(&plain, &fused)? < 1e-6);
        let upstream = Tensor::randn(0f32, 1.0, (4, 9), &device)?;
        let store = plain.mul(&upstream)?.sum_all()?.backward()?;
        let Some(expected) = store.get(zv.as_tensor()) else {
            panic!("no gradient for z");
        };
        let grad = upstream.copy()?;
        relu_dropout_grad(&grad, &fused, 1.0)?;
        assert!(max_diff(expected, &grad)? < 1e-6);
        Ok(())
    }

    /// Input dropout equals multiplying by `dropout_mask`'s mask; its gradient is the mask.
    #[test]
    fn input_dropout_matches_mask_multiplication() -> Result<()> {
        let device = Device::Cpu;
        let x = Tensor::rand(0f32, 1.0, (3, 11), &device)?;
        let mut mask = vec![0f32; 33];
        FastRng::new(4)
            .dropout_mask(0.2, &mut mask)
            .map_err(candle_core::Error::wrap)?;
        let mask = Tensor::from_vec(mask, (3, 11), &device)?;
        let fused = x.copy()?;
        dropout(&fused, 0.2, &mut FastRng::new(4))?;
        assert!(max_diff(&fused, &x.mul(&mask)?)? < 1e-6);
        Ok(())
    }

    /// The bias gradient equals candle's `sum(0)` and autograd of `broadcast_add`.
    #[test]
    fn column_sum_matches_sum_over_rows_and_bias_gradient() -> Result<()> {
        let device = Device::Cpu;
        let dz = Tensor::randn(0f32, 1.0, (7, 13), &device)?;
        assert!(max_diff(&column_sum(&dz)?, &dz.sum(0)?)? < 1e-5);

        let b = Var::from_tensor(&Tensor::zeros(13, DType::F32, &device)?)?;
        let x = Tensor::randn(0f32, 1.0, (7, 13), &device)?;
        let store = x
            .broadcast_add(b.as_tensor())?
            .mul(&dz)?
            .sum_all()?
            .backward()?;
        let Some(expected) = store.get(b.as_tensor()) else {
            panic!("no gradient for b");
        };
        assert!(max_diff(&column_sum(&dz)?, expected)? < 1e-5);
        Ok(())
    }

    /// The in-place max-norm equals the plain candle formula `w · c / max(‖w_row‖, c)`.
    #[test]
    fn max_norm_matches_plain_candle() -> Result<()> {
        let device = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (6, 20), &device)?;
        let c = 4.0;
        let norms = w.sqr()?.sum_keepdim(1)?.sqrt()?;
        let plain = w.broadcast_mul(&norms.clamp(c, f64::INFINITY)?.recip()?.affine(c, 0.0)?)?;
        let fused = w.copy()?;
        max_norm(&fused, c)?;
        assert!(max_diff(&plain, &fused)? < 1e-5);
        Ok(())
    }

    /// Non-contiguous inputs are refused rather than read wrongly.
    #[test]
    fn kernels_reject_non_contiguous_tensors() -> Result<()> {
        let device = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (6, 4), &device)?.t()?;
        assert!(column_sum(&w).is_err());
        assert!(max_norm(&w, 1.0).is_err());
        Ok(())
    }
}
