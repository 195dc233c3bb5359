//! int8 students: each layer's weights quantised per output unit (symmetric: `w ≈ s_j · q`,
//! `q ∈ [−127, 127]`, `s_j = max_k |w_jk| / 127`), run with integer products.
//!
//! The forward pass quantises each layer's input row the same way (one scale per row, from its
//! largest magnitude), takes every output's dot product in exact i32 arithmetic
//! ([`crate::model::gemm::int8::dot4`]: AVX2 `vpmaddwd` where the CPU has it, four rows
//! against each weight row), and rescales:
//! `z_j = s_x · s_j · Σ_k q_x,k · q_w,jk + b_j`, then ReLU between layers. Nothing is converted
//! back to f32 weights at load: the file holds the int8 values and the scales, and they are
//! what runs. Biases stay f32 (a few hundred values).
//!
//! The file is a safetensors file like the f32 models' (`fc{l}.weight` as I8 `[out, in]`,
//! `fc{l}.weight_scale` F32 `[out]`, `fc{l}.bias` F32 `[out]`), with `format` =
//! [`FORMAT`] in its metadata: a quarter of the f32 file's bytes plus the scales.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

use super::gemm;
use super::gemm::int8::ROWS;
use super::mlp::Mlp;

/// The `format` metadata value of an int8 model file.
pub const FORMAT: &str = "distillery-int8-per-channel-v1";

/// Rows below this many are computed on the calling thread.
const PARALLEL_MIN_ROWS: usize = 16;

/// One layer: `out` units of `inputs` int8 weights each, a scale and a bias per unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Layer {
    pub inputs: usize,
    pub outputs: usize,
    /// `[outputs, inputs]`, row-major.
    pub weights: Vec<i8>,
    /// `s_j`: unit `j`'s weights are `s_j · weights[j]`.
    pub scales: Vec<f32>,
    pub bias: Vec<f32>,
}

/// An MLP with int8 weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Mlp {
    /// Widths, input first.
    pub layers: Vec<usize>,
    pub fc: Vec<Int8Layer>,
}

/// Symmetric int8 quantisation of `values` with one scale: `(q, s)`, `values ≈ s · q`. An
/// all-zero row gets scale 1 (any scale represents it exactly).
fn quantize_row(values: &[f32], out: &mut [i8]) -> f32 {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    for (q, v) in out.iter_mut().zip(values) {
        *q = (v / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

impl Int8Mlp {
    /// Quantises every layer of `mlp` per output unit.
    pub fn quantize(mlp: &Mlp) -> candle_core::Result<Self> {
        let fc = mlp
            .weights
            .iter()
            .zip(&mlp.biases)
            .map(|(w, b)| {
                let (outputs, inputs) = w.dims2()?;
                let values: Vec<f32> = w.flatten_all()?.to_vec1()?;
                let mut weights = vec![0i8; outputs * inputs];
                let scales = values
                    .chunks_exact(inputs)
                    .zip(weights.chunks_exact_mut(inputs))
                    .map(|(row, q)| quantize_row(row, q))
                    .collect();
                Ok(Int8Layer {
                    inputs,
                    outputs,
                    weights,
                    scales,
                    bias: b.to_vec1()?,
                })
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            layers: mlp.layers.clone(),
            fc,
        })
    }

    /// Output classes.
    pub fn classes(&self) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    /// Logits of up to [`ROWS`] input rows, appended to `out` row after row. The rows of a
    /// group share each weight row's loads ([`gemm::int8::dot4`]); a single row (one image
    /// served alone) takes the one-row kernel.
    fn forward_rows(&self, rows: &[&[f32]], out: &mut Vec<f32>) {
        let n = rows.len();
        let mut h: Vec<Vec<f32>> = rows.iter().map(|r| r.to_vec()).collect();
        for (l, layer) in self.fc.iter().enumerate() {
            let mut q = vec![vec![0i8; layer.inputs]; ROWS];
            let mut sx = [0f32; ROWS];
            for (r, row) in h.iter().enumerate() {
                sx[r] = quantize_row(row, &mut q[r]);
            }
            let hidden = l + 1 < self.fc.len();
            let mut next = vec![Vec::with_capacity(layer.outputs); n];
            for (w, (sw, b)) in layer
                .weights
                .chunks_exact(layer.inputs)
                .zip(layer.scales.iter().zip(&layer.bias))
            {
                let acc = if n == 1 {
                    [gemm::int8::dot(&q[0], w), 0, 0, 0]
                } else {
                    gemm::int8::dot4([&q[0], &q[1], &q[2], &q[3]], w)
                };
                for r in 0..n {
                    let z = acc[r] as f32 * (sx[r] * sw) + b;
                    next[r].push(if hidden { z.max(0.0) } else { z });
                }
            }
            h = next;
        }
        for row in h {
            out.extend_from_slice(&row);
        }
    }

    /// Logits `[n, classes]` of a flat `[n, inputs]` buffer, groups of rows in parallel when
    /// there are enough of them.
    pub fn logits(&self, images: &[f32]) -> Vec<f32> {
        let dim = self.layers[0];
        let rows: Vec<&[f32]> = images.chunks_exact(dim).collect();
        let group = |rows: &[&[f32]]| {
            let mut out = Vec::with_capacity(rows.len() * self.classes());
            self.forward_rows(rows, &mut out);
            out
        };
        let per_group: Vec<Vec<f32>> = if rows.len() >= PARALLEL_MIN_ROWS {
            rows.par_chunks(ROWS).map(group).collect()
        } else {
            rows.chunks(ROWS).map(group).collect()
        };
        per_group.concat()
    }

    /// The model as safetensors bytes (see the module documentation), with `extra` metadata.
    pub fn to_bytes(&self, extra: &HashMap<String, String>) -> Result<Vec<u8>, String> {
        let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (l, layer) in self.fc.iter().enumerate() {
            let n = l + 1;
            let weights = layer.weights.iter().map(|q| *q as u8).collect();
            let f32_bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect();
            buffers.push((
                format!("fc{n}.weight"),
                Dtype::I8,
                vec![layer.outputs, layer.inputs],
                weights,
            ));
            buffers.push((
                format!("fc{n}.weight_scale"),
                Dtype::F32,
                vec![layer.outputs],
                f32_bytes(&layer.scales),
            ));
            buffers.push((
                format!("fc{n}.bias"),
                Dtype::F32,
                vec![layer.outputs],
                f32_bytes(&layer.bias),
            ));
        }
        let views: Vec<(String, TensorView<'_>)> = buffers
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        let architecture = super::weights::architecture_json(&self.layers);
        let mut metadata: BTreeMap<&str, &str> = extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        metadata.insert("format", FORMAT);
        metadata.insert("architecture", &architecture);
        metadata.insert("input", "pixels/255");
        let bytes = safetensors::serialize(views, None).map_err(|e| e.to_string())?;
        super::weights::with_sorted_metadata(bytes, &metadata).map_err(|e| e.to_string())
    }

    /// Reads an int8 model file's bytes, as [`Int8Mlp::to_bytes`] writes them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let tensors = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| format!("not a safetensors file ({e})"))?;
        let mut fc = Vec::new();
        for n in 1.. {
            let Ok(w) = tensors.tensor(&format!("fc{n}.weight")) else {
                break;
            };
            let get = |name: &str, dtype: Dtype| {
                let t = tensors
                    .tensor(name)
                    .map_err(|_| format!("fc{n}.weight has no {name}"))?;
                if t.dtype() != dtype {
                    return Err(format!("{name} is {:?}, expected {dtype:?}", t.dtype()));
                }
                Ok(t)
            };
            if w.dtype() != Dtype::I8 {
                return Err(format!("fc{n}.weight is {:?}, expected I8", w.dtype()));
            }
            let &[outputs, inputs] = w.shape() else {
                return Err(format!(
                    "fc{n}.weight has shape {:?}, expected [out, in]",
                    w.shape()
                ));
            };
            let floats = |t: TensorView<'_>| -> Result<Vec<f32>, String> {
                if t.shape() != [outputs] {
                    return Err(format!(
                        "a vector of fc{n} has shape {:?}, expected [{outputs}]",
                        t.shape()
                    ));
                }
                Ok(t.data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            };
            let scales = floats(get(&format!("fc{n}.weight_scale"), Dtype::F32)?)?;
            let bias = floats(get(&format!("fc{n}.bias"), Dtype::F32)?)?;
            if let Some(prev) = fc.last().map(|l: &Int8Layer| l.outputs) {
                if prev != inputs {
                    return Err(format!(
                        "fc{n} takes {inputs} inputs but fc{} gives {prev}",
                        n - 1
                    ));
                }
            }
            fc.push(Int8Layer {
                inputs,
                outputs,
                weights: w.data().iter().map(|b| *b as i8).collect(),
                scales,
                bias,
            });
        }
        let Some(first) = fc.first() else {
            return Err("no fc1.weight tensor: not an MLP saved by Distillery".to_owned());
        };
        let mut layers = vec![first.inputs];
        layers.extend(fc.iter().map(|l| l.outputs));
        Ok(Self { layers, fc })
    }

    /// Whether a safetensors file's bytes are an int8 model (its `format` metadata).
    pub fn is_int8(bytes: &[u8]) -> bool {
        super::weights::metadata_of(bytes)
            .get("format")
            .is_some_and(|f| f == FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The int8 forward pass against the f32 computation on the quantised values: the integer
    /// path must be exactly `Σ (s_x q_x)(s_w q_w)` up to f32 rounding, and the whole model
    /// within the quantisation error of the f32 model.
    #[test]
    fn int8_logits_follow_the_f32_model_within_the_quantisation_error() {
        let mlp = Mlp::new(&[64, 48, 10], 5, &Device::Cpu).unwrap();
        let q = Int8Mlp::quantize(&mlp).unwrap();
        let x: Vec<f32> = (0..20 * 64)
            .map(|i| ((i * 37 % 101) as f32) / 101.0)
            .collect();
        let ours = q.logits(&x);
        let f32_logits = mlp.logits(&x, &Device::Cpu).unwrap();
        assert_eq!(ours.len(), 20 * 10);
        // One image alone (the one-row kernel) and in groups of four: the same exact integer
        // sums, so the same logits; 3 rows: a partial group.
        assert_eq!(q.logits(&x[..64]), ours[..10]);
        assert_eq!(q.logits(&x[64..4 * 64]), ours[10..40]);
        // Reference: the same quantised operands multiplied out in f64.
        for (row, got) in x.chunks_exact(64).zip(ours.chunks_exact(10)) {
            let mut h: Vec<f64> = row.iter().map(|v| f64::from(*v)).collect();
            for (l, layer) in q.fc.iter().enumerate() {
                let hf: Vec<f32> = h.iter().map(|v| *v as f32).collect();
                let mut qx = vec![0i8; layer.inputs];
                let sx = f64::from(quantize_row(&hf, &mut qx));
                h = (0..layer.outputs)
                    .map(|j| {
                        let w = &layer.weights[j * layer.inputs..(j + 1) * layer.inputs];
                        let acc: f64 = qx
                            .iter()
                            .zip(w)
                            .map(|(a, b)| f64::from(*a) * f64::from(*b))
                            .sum();
                        let z = acc * sx * f64::from(layer.scales[j]) + f64::from(layer.bias[j]);
                        if l + 1 < q.fc.len() {
                            z.max(0.0)
                        } else {
                            z
                        }
                    })
                    .collect();
            }
            for (g, r) in got.iter().zip(&h) {
                assert!(
                    (f64::from(*g) - r).abs() < 1e-4 * (1.0 + r.abs()),
                    "{g} vs {r}"
                );
            }
        }
        // Against the f32 model: within a few per cent of the logits' spread.
        let spread = f32_logits.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = ours
            .iter()
            .zip(&f32_logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 0.05 * spread,
            "int8 off by {worst} (logits up to {spread})"
        );
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_refused() {
        let mlp = Mlp::new(&[12, 7, 3], 2, &Device::Cpu).unwrap();
        let q = Int8Mlp::quantize(&mlp).unwrap();
        let extra = HashMap::from([("method".to_owned(), "hinton".to_owned())]);
        let bytes = q.to_bytes(&extra).unwrap();
        assert!(Int8Mlp::is_int8(&bytes));
        assert_eq!(Int8Mlp::from_bytes(&bytes).unwrap(), q);
        let f32_bytes = super::super::weights::to_bytes(&mlp, &extra).unwrap();
        assert!(!Int8Mlp::is_int8(&f32_bytes));
        let err = Int8Mlp::from_bytes(&f32_bytes).unwrap_err();
        assert!(err.contains("fc1.weight is F32, expected I8"), "{err}");
        assert!(Int8Mlp::from_bytes(b"garbage")
            .unwrap_err()
            .contains("not a safetensors"));
        // Every weight is in [−127, 127] and each unit's largest magnitude maps to ±127.
        for layer in &q.fc {
            for row in layer.weights.chunks_exact(layer.inputs) {
                assert!(row.iter().all(|v| *v >= -127));
                assert_eq!(row.iter().map(|v| v.unsigned_abs()).max(), Some(127));
            }
        }
    }
}
