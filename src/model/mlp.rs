//! A fully connected ReLU network with a hand-written backward pass.
//!
//! The network is fixed (linear → ReLU → dropout, repeated, then a linear output), so its
//! gradients are written out directly on candle tensors instead of recording an autograd graph:
//! per layer `dW = dzᵀ·a`, `db = Σ_b dz`, `da_prev = dz·W`, `dz_prev = da_prev ⊙ gate`, where
//! `gate` is ReLU's derivative times the dropout mask. A test pins these gradients to candle's
//! autograd on the same weights, so the fast path and the plain one stay one model.
//!
//! Weights are stored PyTorch-style, `fcN.weight` `[out, in]` and `fcN.bias` `[out]`.

use candle_core::{DType, Device, Result, Tensor, D};

use crate::rng::FastRng;

/// Dropout probabilities applied during training.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dropout {
    /// On the input pixels.
    pub input: f64,
    /// On every hidden layer's activations.
    pub hidden: f64,
}

/// A multilayer perceptron.
#[derive(Clone, Debug)]
pub struct Mlp {
    /// Widths from input to output, e.g. `[784, 800, 800, 10]`.
    pub layers: Vec<usize>,
    /// `[out, in]` per layer.
    pub weights: Vec<Tensor>,
    /// `[out]` per layer.
    pub biases: Vec<Tensor>,
}

/// What the backward pass needs from a training forward pass.
pub struct ForwardCache {
    /// The input of each layer (after ReLU and dropout of the previous one).
    inputs: Vec<Tensor>,
    /// ReLU derivative times dropout mask of each hidden layer.
    gates: Vec<Tensor>,
}

/// Gradients of the loss with respect to each parameter, same shapes as the parameters.
pub struct Gradients {
    /// `[out, in]` per layer.
    pub weights: Vec<Tensor>,
    /// `[out]` per layer.
    pub biases: Vec<Tensor>,
}

impl Mlp {
    /// PyTorch's `nn.Linear` initialisation: weights and biases `U(−1/√in, 1/√in)`, seeded.
    pub fn new(layers: &[usize], seed: u64, device: &Device) -> Result<Self> {
        if layers.len() < 2 {
            candle_core::bail!("an MLP needs at least an input and an output width, got {layers:?}");
        }
        let mut rng = FastRng::fork(seed, "init");
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for pair in layers.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let bound = 1.0 / (fan_in as f64).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n)
                    .map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32)
                    .collect()
            };
            weights.push(Tensor::from_vec(draw(fan_out * fan_in), (fan_out, fan_in), device)?);
            biases.push(Tensor::from_vec(draw(fan_out), fan_out, device)?);
        }
        Ok(Self {
            layers: layers.to_vec(),
            weights,
            biases,
        })
    }

    /// Builds a model from existing parameters, checking their shapes.
    pub fn from_parameters(weights: Vec<Tensor>, biases: Vec<Tensor>) -> Result<Self> {
        if weights.is_empty() || weights.len() != biases.len() {
            candle_core::bail!("{} weight matrices but {} bias vectors", weights.len(), biases.len());
        }
        let mut layers = vec![weights[0].dim(1)?];
        for (i, (w, b)) in weights.iter().zip(&biases).enumerate() {
            let (out, inp) = w.dims2()?;
            if inp != layers[i] || b.dims1()? != out {
                candle_core::bail!(
                    "layer fc{}: weight {:?} and bias {:?} do not chain after width {}",
                    i + 1,
                    w.dims(),
                    b.dims(),
                    layers[i]
                );
            }
            layers.push(out);
        }
        Ok(Self {
            layers,
            weights,
            biases,
        })
    }

    /// Number of classes (output width).
    pub fn classes(&self) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    /// Number of linear layers.
    pub fn depth(&self) -> usize {
        self.weights.len()
    }

    /// Evaluation forward pass (no dropout): `[B, in]` → logits `[B, classes]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in 0..self.depth() {
            let z = h
                .matmul(&self.weights[l].t()?)?
                .broadcast_add(&self.biases[l])?;
            h = if l + 1 < self.depth() { z.relu()? } else { z };
        }
        Ok(h)
    }

    /// Training forward pass with inverted dropout; returns logits and what backward needs.
    pub fn forward_train(
        &self,
        x: &Tensor,
        dropout: Dropout,
        rng: &mut FastRng,
    ) -> Result<(Tensor, ForwardCache)> {
        let batch = x.dim(0)?;
        let mut h = if dropout.input > 0.0 {
            x.mul(&mask_tensor(rng, dropout.input, x.dims(), x.device())?)?
        } else {
            x.clone()
        };
        let mut inputs = Vec::with_capacity(self.depth());
        let mut gates = Vec::with_capacity(self.depth() - 1);
        for l in 0..self.depth() {
            let z = h
                .matmul(&self.weights[l].t()?)?
                .broadcast_add(&self.biases[l])?;
            inputs.push(h);
            if l + 1 == self.depth() {
                return Ok((z, ForwardCache { inputs, gates }));
            }
            let positive = z.gt(0f32)?.to_dtype(DType::F32)?;
            let gate = if dropout.hidden > 0.0 {
                let width = self.layers[l + 1];
                positive.mul(&mask_tensor(rng, dropout.hidden, &[batch, width], z.device())?)?
            } else {
                positive
            };
            h = z.mul(&gate)?;
            gates.push(gate);
        }
        candle_core::bail!("unreachable: an MLP has at least one layer")
    }

    /// Backward pass from `dlogits` (`∂L/∂z` of the output, `[B, classes]`).
    pub fn backward(&self, cache: &ForwardCache, dlogits: &Tensor) -> Result<Gradients> {
        let depth = self.depth();
        let mut weights = vec![None; depth];
        let mut biases = vec![None; depth];
        let mut dz = dlogits.clone();
        for l in (0..depth).rev() {
            weights[l] = Some(dz.t()?.matmul(&cache.inputs[l])?);
            biases[l] = Some(dz.sum(0)?);
            if l > 0 {
                dz = dz.matmul(&self.weights[l])?.mul(&cache.gates[l - 1])?;
            }
        }
        Ok(Gradients {
            weights: weights.into_iter().flatten().collect(),
            biases: biases.into_iter().flatten().collect(),
        })
    }

    /// Rescales each unit's incoming weight vector to an L2 norm of at most `max_norm`
    /// (Srivastava et al. 2014's max-norm constraint).
    pub fn apply_max_norm(&mut self, max_norm: f64) -> Result<()> {
        for w in &mut self.weights {
            let norms = w.sqr()?.sum_keepdim(1)?.sqrt()?;
            let scale = norms
                .clamp(max_norm, f64::INFINITY)?
                .recip()?
                .affine(max_norm, 0.0)?;
            *w = w.broadcast_mul(&scale)?;
        }
        Ok(())
    }

    /// Logits for every example of a flat `[n, in]` pixel buffer, in batches.
    pub fn logits(&self, images: &[f32], device: &Device) -> Result<Vec<f32>> {
        const EVAL_BATCH: usize = 2000;
        let dim = self.layers[0];
        let n = images.len() / dim;
        let mut out = Vec::with_capacity(n * self.classes());
        for start in (0..n).step_by(EVAL_BATCH) {
            let len = EVAL_BATCH.min(n - start);
            let x = Tensor::from_slice(&images[start * dim..(start + len) * dim], (len, dim), device)?;
            out.extend(self.forward(&x)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Adds `shift` to the output bias of each class in `classes`.
    pub fn shift_output_bias(&mut self, classes: &[u8], shift: f64) -> Result<()> {
        let Some(bias) = self.biases.last_mut() else {
            return Ok(());
        };
        let mut values: Vec<f32> = bias.to_vec1()?;
        for &c in classes {
            if let Some(v) = values.get_mut(usize::from(c)) {
                *v += shift as f32;
            }
        }
        *bias = Tensor::from_vec(values, bias.dims1()?, bias.device())?;
        Ok(())
    }

    /// Index of the largest logit in each row.
    pub fn argmax(&self, x: &Tensor) -> Result<Vec<u32>> {
        self.forward(x)?.argmax(D::Minus1)?.to_vec1()
    }
}

fn mask_tensor(rng: &mut FastRng, p: f64, dims: &[usize], device: &Device) -> Result<Tensor> {
    let mut mask = vec![0f32; dims.iter().product()];
    rng.dropout_mask(p, &mut mask);
    Tensor::from_vec(mask, dims, device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// The hand-written backward pass must equal candle's autograd on the same computation
    /// (same dropout masks: dropout off here, ReLU gates exercised by random weights).
    #[test]
    fn hand_written_gradients_match_autograd() -> Result<()> {
        let device = Device::Cpu;
        let mlp = Mlp::new(&[6, 5, 4, 3], 3, &device)?;
        let x = Tensor::randn(0f32, 1.0, (7, 6), &device)?;
        let upstream = Tensor::randn(0f32, 1.0, (7, 3), &device)?;

        let mut rng = FastRng::new(0);
        let (logits, cache) = mlp.forward_train(&x, Dropout::default(), &mut rng)?;
        let grads = mlp.backward(&cache, &upstream)?;

        let vars: Vec<(Var, Var)> = mlp
            .weights
            .iter()
            .zip(&mlp.biases)
            .map(|(w, b)| Ok((Var::from_tensor(w)?, Var::from_tensor(b)?)))
            .collect::<Result<_>>()?;
        let mut h = x.clone();
        for (l, (w, b)) in vars.iter().enumerate() {
            let z = h.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
            h = if l + 1 < vars.len() { z.relu()? } else { z };
        }
        let max_diff = |a: &Tensor, b: &Tensor| -> Result<f32> {
            a.sub(b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
        };
        assert!(max_diff(&h, &logits)? < 1e-5);
        // L = Σ logits ⊙ upstream has ∂L/∂logits = upstream.
        let store = h.mul(&upstream)?.sum_all()?.backward()?;
        for (l, (w, b)) in vars.iter().enumerate() {
            let gw = store.get(w.as_tensor()).expect("weight gradient");
            let gb = store.get(b.as_tensor()).expect("bias gradient");
            assert!(max_diff(gw, &grads.weights[l])? < 1e-4, "fc{} weight", l + 1);
            assert!(max_diff(gb, &grads.biases[l])? < 1e-4, "fc{} bias", l + 1);
        }
        Ok(())
    }

    #[test]
    fn dropout_zeroes_units_and_backward_respects_the_mask() -> Result<()> {
        let device = Device::Cpu;
        let mlp = Mlp::new(&[4, 50, 2], 1, &device)?;
        let x = Tensor::ones((3, 4), DType::F32, &device)?;
        let mut rng = FastRng::new(5);
        let dropout = Dropout { input: 0.0, hidden: 0.5 };
        let (_, cache) = mlp.forward_train(&x, dropout, &mut rng)?;
        let gate: Vec<f32> = cache.gates[0].flatten_all()?.to_vec1()?;
        assert!(gate.iter().all(|g| *g == 0.0 || *g == 2.0));
        assert!(gate.iter().any(|g| *g == 0.0) && gate.iter().any(|g| *g == 2.0));
        Ok(())
    }

    #[test]
    fn max_norm_caps_row_norms() -> Result<()> {
        let device = Device::Cpu;
        let mut mlp = Mlp::new(&[100, 8, 2], 1, &device)?;
        mlp.weights[0] = mlp.weights[0].affine(50.0, 0.0)?;
        mlp.apply_max_norm(1.5)?;
        let norms: Vec<f32> = mlp.weights[0].sqr()?.sum(1)?.sqrt()?.to_vec1()?;
        assert!(norms.iter().all(|n| (*n - 1.5).abs() < 1e-4), "{norms:?}");
        let small: Vec<f32> = mlp.weights[1].sqr()?.sum(1)?.sqrt()?.to_vec1()?;
        assert!(small.iter().all(|n| *n < 1.5), "rows under the cap are left alone");
        Ok(())
    }
}
