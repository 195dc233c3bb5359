//! A fully connected ReLU network with a hand-written backward pass.
//!
//! The network is fixed (linear → ReLU → dropout, repeated, then a linear output), so its
//! gradients are written out directly on candle tensors instead of recording an autograd graph:
//! per layer `dW = dzᵀ·a`, `db = Σ_b dz`, `da_prev = dz·W`, `dz_prev = da_prev ⊙ gate`, where
//! `gate` is ReLU's derivative times the dropout mask. A test pins these gradients to candle's
//! autograd on the same weights, so the fast path and the plain one stay one model.
//!
//! Everything between the GEMMs runs as fused in-place kernels ([`super::kernels`]): bias, ReLU
//! and dropout in one pass over the GEMM output, the gate of the backward pass recomputed from
//! the layer output (`gate = keep·[h > 0]`) instead of stored, and bias gradients as a row sum.
//!
//! Weights are stored PyTorch-style, `fcN.weight` `[out, in]` and `fcN.bias` `[out]`.

use candle_core::{Device, Result, Tensor};

use super::{gemm, kernels};
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
///
/// The optimiser updates the parameter tensors in place, so [`Clone`] copies them (a clone
/// that shared storage would silently follow the original's training).
#[derive(Debug)]
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
    /// The input of each layer (after ReLU and dropout of the previous one). For a hidden
    /// layer's output `h = relu(z)·mask`, the backward gate `keep·[h > 0]` follows from `h`.
    inputs: Vec<Tensor>,
    /// `1/(1 − p)` of the hidden layers' dropout (1 without).
    keep: f32,
}

impl ForwardCache {
    /// The output of hidden layer `layer` (1 = the first; after ReLU and dropout), `[B,
    /// width]`: what a hint or a relational loss reads. `None` past the last hidden layer.
    pub fn hidden(&self, layer: usize) -> Option<&Tensor> {
        self.inputs.get(layer).filter(|_| layer > 0)
    }
}

/// Gradients of the loss with respect to each parameter, same shapes as the parameters.
pub struct Gradients {
    /// `[out, in]` per layer.
    pub weights: Vec<Tensor>,
    /// `[out]` per layer.
    pub biases: Vec<Tensor>,
}

impl Clone for Mlp {
    fn clone(&self) -> Self {
        // `Tensor::copy` cannot fail for CPU tensors; fall back to sharing if it ever does.
        let deep = |ts: &[Tensor]| -> Vec<Tensor> {
            ts.iter()
                .map(|t| t.copy().unwrap_or_else(|_| t.clone()))
                .collect()
        };
        Self {
            layers: self.layers.clone(),
            weights: deep(&self.weights),
            biases: deep(&self.biases),
        }
    }
}

impl Mlp {
    /// PyTorch's `nn.Linear` initialisation: weights and biases `U(−1/√in, 1/√in)`, seeded.
    pub fn new(layers: &[usize], seed: u64, device: &Device) -> Result<Self> {
        if layers.len() < 2 {
            candle_core::bail!(
                "an MLP needs at least an input and an output width, got {layers:?}"
            );
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
            weights.push(Tensor::from_vec(
                draw(fan_out * fan_in),
                (fan_out, fan_in),
                device,
            )?);
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
            candle_core::bail!(
                "{} weight matrices but {} bias vectors",
                weights.len(),
                biases.len()
            );
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
        let mut rng = FastRng::new(0);
        let mut h = x.clone();
        for l in 0..self.depth() {
            let z = gemm::matmul(&h, &self.weights[l].t()?)?;
            kernels::bias_activation(&z, &self.biases[l], l + 1 < self.depth(), 0.0, &mut rng)?;
            h = z;
        }
        Ok(h)
    }

    /// Training forward pass with inverted dropout; returns logits and what backward needs.
    ///
    /// `x` is read, never written: input dropout works on a copy.
    pub fn forward_train(
        &self,
        x: &Tensor,
        dropout: Dropout,
        rng: &mut FastRng,
    ) -> Result<(Tensor, ForwardCache)> {
        let mut h = if dropout.input > 0.0 {
            let dropped = x.copy()?;
            kernels::dropout(&dropped, dropout.input, rng)?;
            dropped
        } else {
            x.clone()
        };
        let keep = (1.0 / (1.0 - dropout.hidden)) as f32;
        let mut inputs = Vec::with_capacity(self.depth());
        for l in 0..self.depth() {
            let z = gemm::matmul(&h, &self.weights[l].t()?)?;
            let hidden = l + 1 < self.depth();
            let p = if hidden { dropout.hidden } else { 0.0 };
            kernels::bias_activation(&z, &self.biases[l], hidden, p, rng)?;
            inputs.push(h);
            h = z;
        }
        Ok((h, ForwardCache { inputs, keep }))
    }

    /// Backward pass from `dlogits` (`∂L/∂z` of the output, `[B, classes]`).
    pub fn backward(&self, cache: &ForwardCache, dlogits: &Tensor) -> Result<Gradients> {
        self.backward_with_hidden(cache, dlogits, None)
    }

    /// [`Mlp::backward`] for a loss that also reads hidden layer `l`'s output
    /// ([`ForwardCache::hidden`]): `Some((l, ∂L/∂h_l))` is added to the gradient that reaches
    /// that output from above, before the layer's ReLU/dropout gate.
    pub fn backward_with_hidden(
        &self,
        cache: &ForwardCache,
        dlogits: &Tensor,
        hidden: Option<(usize, &Tensor)>,
    ) -> Result<Gradients> {
        let depth = self.depth();
        let mut weights = vec![None; depth];
        let mut biases = vec![None; depth];
        let mut dz = dlogits.clone();
        for l in (0..depth).rev() {
            weights[l] = Some(gemm::matmul(&dz.t()?, &cache.inputs[l])?);
            biases[l] = Some(kernels::column_sum(&dz)?);
            if l > 0 {
                let mut da = gemm::matmul(&dz, &self.weights[l])?;
                if let Some((_, dh)) = hidden.filter(|(layer, _)| *layer == l) {
                    da = da.add(dh)?;
                }
                kernels::relu_dropout_grad(&da, &cache.inputs[l], cache.keep)?;
                dz = da;
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
        for w in &self.weights {
            kernels::max_norm(w, max_norm)?;
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
            let x = Tensor::from_slice(
                &images[start * dim..(start + len) * dim],
                (len, dim),
                device,
            )?;
            out.extend(self.forward(&x)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// The output of hidden layer `layer` (1 = the first, after its ReLU) for every example of
    /// a flat `[n, in]` buffer, in batches: the teacher's side of a hint or relational loss.
    pub fn hidden_outputs(
        &self,
        images: &[f32],
        layer: usize,
        device: &Device,
    ) -> Result<Vec<f32>> {
        if layer == 0 || layer >= self.depth() {
            candle_core::bail!(
                "hidden layer {layer}: the model {:?} has hidden layers 1 to {}",
                self.layers,
                self.depth() - 1
            );
        }
        let head = Self {
            layers: self.layers[..=layer].to_vec(),
            weights: self.weights[..layer].to_vec(),
            biases: self.biases[..layer].to_vec(),
        };
        let relu = head.logits(images, device)?;
        Ok(relu.into_iter().map(|v| v.max(0.0)).collect())
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// Runs the fused training forward pass and the hand-written backward pass, and the same
    /// computation with candle's autograd — `relu(x·Wᵀ + b) ⊙ mask` with the masks
    /// `dropout_mask` draws from the same stream in the same order (input first, then each
    /// hidden layer; all ones without dropout) — and checks logits and every gradient agree.
    fn assert_backward_matches_autograd(
        layers: &[usize],
        dropout: Dropout,
        seed: u64,
    ) -> Result<ForwardCache> {
        let device = Device::Cpu;
        let mlp = Mlp::new(layers, seed, &device)?;
        let (batch, classes) = (7, mlp.classes());
        let x = Tensor::rand(0f32, 1.0, (batch, layers[0]), &device)?;
        let upstream = Tensor::randn(0f32, 1.0, (batch, classes), &device)?;
        let (logits, cache) = mlp.forward_train(&x, dropout, &mut FastRng::new(seed))?;
        let grads = mlp.backward(&cache, &upstream)?;

        let mut rng = FastRng::new(seed);
        let mut mask = |p: f64, dims: (usize, usize)| -> Result<Tensor> {
            let mut values = vec![0f32; dims.0 * dims.1];
            rng.dropout_mask(p, &mut values)
                .map_err(candle_core::Error::wrap)?;
            Tensor::from_vec(values, dims, &device)
        };
        let vars: Vec<(Var, Var)> = mlp
            .weights
            .iter()
            .zip(&mlp.biases)
            .map(|(w, b)| Ok((Var::from_tensor(w)?, Var::from_tensor(b)?)))
            .collect::<Result<_>>()?;
        let mut h = x.mul(&mask(dropout.input, (batch, layers[0]))?)?;
        for (l, (w, b)) in vars.iter().enumerate() {
            let z = h
                .matmul(&w.as_tensor().t()?)?
                .broadcast_add(b.as_tensor())?;
            h = if l + 1 < vars.len() {
                z.relu()?
                    .mul(&mask(dropout.hidden, (batch, layers[l + 1]))?)?
            } else {
                z
            };
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
            assert!(
                max_diff(gw, &grads.weights[l])? < 1e-4,
                "fc{} weight",
                l + 1
            );
            assert!(max_diff(gb, &grads.biases[l])? < 1e-4, "fc{} bias", l + 1);
        }
        Ok(cache)
    }

    /// Without dropout (ReLU gates exercised by random weights), with each matrix-product
    /// backend this CPU has (the autograd reference always uses candle's).
    #[test]
    fn hand_written_gradients_match_autograd() -> Result<()> {
        for backend in gemm::Backend::available() {
            gemm::with_backend(backend, || {
                assert_backward_matches_autograd(&[6, 5, 4, 3], Dropout::default(), 3)?;
                // Wide enough for whole 6 × 16 tiles, several packed panels, and a depth of
                // more than one 256-deep block.
                assert_backward_matches_autograd(&[300, 40, 33, 10], Dropout::default(), 5)
            })?;
        }
        Ok(())
    }

    /// With input and hidden dropout on, masks drawn inside the fused kernels.
    #[test]
    fn hand_written_gradients_with_dropout_match_autograd() -> Result<()> {
        let dropout = Dropout {
            input: 0.2,
            hidden: 0.5,
        };
        for backend in gemm::Backend::available() {
            gemm::with_backend(backend, || {
                assert_backward_matches_autograd(&[6, 50, 40, 3], dropout, 11)
            })?;
        }
        let cache = assert_backward_matches_autograd(&[6, 50, 40, 3], dropout, 11)?;
        // Dropout really dropped something: some hidden units are zero, the rest scaled.
        let hidden: Vec<f32> = cache.inputs[1].flatten_all()?.to_vec1()?;
        assert!(hidden.contains(&0.0) && hidden.iter().any(|v| *v > 0.0));
        Ok(())
    }

    /// A loss that also reads a hidden layer's output (a hint, a relational loss): the
    /// gradient `backward_with_hidden` sends in at that layer gives the parameter gradients
    /// candle's autograd computes for `L = Σ logits ⊙ U + Σ h_l ⊙ V` on the same weights.
    #[test]
    fn a_gradient_sent_into_a_hidden_layer_matches_autograd() -> Result<()> {
        let device = Device::Cpu;
        for layer in [1, 2] {
            let mlp = Mlp::new(&[6, 5, 4, 3], 7, &device)?;
            let x = Tensor::rand(0f32, 1.0, (9, 6), &device)?;
            let upstream = Tensor::randn(0f32, 1.0, (9, 3), &device)?;
            let dh = Tensor::randn(0f32, 1.0, (9, mlp.layers[layer]), &device)?;
            let (_, cache) = mlp.forward_train(&x, Dropout::default(), &mut FastRng::new(1))?;
            let grads = mlp.backward_with_hidden(&cache, &upstream, Some((layer, &dh)))?;
            let vars: Vec<(Var, Var)> = mlp
                .weights
                .iter()
                .zip(&mlp.biases)
                .map(|(w, b)| Ok((Var::from_tensor(w)?, Var::from_tensor(b)?)))
                .collect::<Result<_>>()?;
            let mut h = x.clone();
            let mut hint = None;
            for (l, (w, b)) in vars.iter().enumerate() {
                let z = h
                    .matmul(&w.as_tensor().t()?)?
                    .broadcast_add(b.as_tensor())?;
                h = if l + 1 < vars.len() { z.relu()? } else { z };
                if l + 1 == layer {
                    assert!(cache.hidden(layer).is_some());
                    hint = Some(h.clone());
                }
            }
            let hint = hint.expect("the hidden layer");
            let loss = h
                .mul(&upstream)?
                .sum_all()?
                .add(&hint.mul(&dh)?.sum_all()?)?;
            let store = loss.backward()?;
            for (l, (w, b)) in vars.iter().enumerate() {
                let max_diff = |a: &Tensor, b: &Tensor| -> Result<f32> {
                    a.sub(b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
                };
                let gw = store.get(w.as_tensor()).expect("weight gradient");
                let gb = store.get(b.as_tensor()).expect("bias gradient");
                assert!(
                    max_diff(gw, &grads.weights[l])? < 1e-4,
                    "layer {layer}: fc{}",
                    l + 1
                );
                assert!(
                    max_diff(gb, &grads.biases[l])? < 1e-4,
                    "layer {layer}: fc{}",
                    l + 1
                );
            }
        }
        // The output layer's input is the last hidden layer; past it there is none.
        let mlp = Mlp::new(&[6, 5, 4, 3], 7, &device)?;
        let (_, cache) = mlp.forward_train(
            &Tensor::zeros((2, 6), candle_core::DType::F32, &device)?,
            Dropout::default(),
            &mut FastRng::new(1),
        )?;
        assert!(cache.hidden(0).is_none() && cache.hidden(3).is_none());
        Ok(())
    }

    /// `hidden_outputs` is the training forward pass's hidden output without dropout.
    #[test]
    fn hidden_outputs_are_the_forward_pass_hidden_layer() -> Result<()> {
        let device = Device::Cpu;
        let mlp = Mlp::new(&[6, 5, 4, 3], 7, &device)?;
        let x = Tensor::rand(0f32, 1.0, (4, 6), &device)?;
        let (_, cache) = mlp.forward_train(&x, Dropout::default(), &mut FastRng::new(1))?;
        let flat: Vec<f32> = x.flatten_all()?.to_vec1()?;
        for layer in [1, 2] {
            let expected: Vec<f32> = cache
                .hidden(layer)
                .expect("layer")
                .flatten_all()?
                .to_vec1()?;
            let got = mlp.hidden_outputs(&flat, layer, &device)?;
            assert_eq!(got.len(), expected.len());
            assert!(got.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
        }
        assert!(mlp.hidden_outputs(&flat, 3, &device).is_err());
        Ok(())
    }

    /// A clone owns its parameters: in-place updates of the original do not reach it.
    #[test]
    fn clones_do_not_share_parameter_storage() -> Result<()> {
        let device = Device::Cpu;
        let mut mlp = Mlp::new(&[3, 4, 2], 1, &device)?;
        let copy = mlp.clone();
        mlp.apply_max_norm(1e-3)?;
        let (a, b): (Vec<f32>, Vec<f32>) = (
            mlp.weights[0].flatten_all()?.to_vec1()?,
            copy.weights[0].flatten_all()?.to_vec1()?,
        );
        assert_ne!(a, b);
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
        assert!(
            small.iter().all(|n| *n < 1.5),
            "rows under the cap are left alone"
        );
        Ok(())
    }
}
