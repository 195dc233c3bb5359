//! The matrix products of a training step, timed alone: how close the backend's kernels come
//! to the machine's peak on the exact shapes and layouts the MLP multiplies, without the rest
//! of the step around them. The shapes are those issue 21 measured MKL on (a batch of 128
//! through the student's and the teacher's layers), each in the orientation the training step
//! uses: the forward pass multiplies by a transposed weight matrix (`X · Wᵀ`) and the weight
//! gradient by a transposed activation (`dZᵀ · X`).

use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};
use serde::Serialize;

use crate::model::gemm::{self, Backend};

/// One product's speed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProductSpeed {
    /// What it is, e.g. `x·Wᵀ 128×784 · 784×800`.
    pub name: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// Achieved GFLOP/s (2·m·n·k per product), the median of the timed repetitions.
    pub gflops: f64,
}

/// `(description, m, k, n, the left operand is a transposed view, the right one is)`.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 5] = [
    ("x·Wᵀ (student layer 1)", 128, 784, 800, false, true),
    ("x·Wᵀ (student layer 2)", 128, 800, 800, false, true),
    ("x·Wᵀ (teacher layer 2)", 128, 1200, 1200, false, true),
    (
        "dZᵀ·x (student layer 1 weight gradient)",
        800,
        128,
        784,
        true,
        false,
    ),
    (
        "dZ·W (student layer 2 input gradient)",
        128,
        800,
        800,
        false,
        false,
    ),
];

/// A `rows × cols` matrix of small deterministic values, stored transposed when `transposed`
/// (so that the product reads it through a strided view, as the training step does).
fn operand(rows: usize, cols: usize, transposed: bool) -> Result<Tensor> {
    let values: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    Ok(if transposed {
        Tensor::from_vec(values, (cols, rows), &Device::Cpu)?.t()?
    } else {
        Tensor::from_vec(values, (rows, cols), &Device::Cpu)?
    })
}

/// Times every shape with `backend` on the whole thread pool.
pub fn measure(backend: Backend) -> Result<Vec<ProductSpeed>> {
    SHAPES
        .iter()
        .map(|&(what, m, k, n, ta, tb)| {
            let (a, b) = (operand(m, k, ta)?, operand(k, n, tb)?);
            let flop = 2.0 * (m * n * k) as f64;
            // About 0.2 s of work per shape at 100 GFLOP/s, after a few warm-up products.
            let repeats = ((2e10 / flop) as usize).clamp(5, 2000);
            for _ in 0..3 {
                std::hint::black_box(gemm::matmul_with(backend, &a, &b)?);
            }
            let mut times: Vec<f64> = (0..repeats)
                .map(|_| {
                    let started = Instant::now();
                    let c = gemm::matmul_with(backend, &a, &b);
                    let secs = started.elapsed().as_secs_f64();
                    std::hint::black_box(c).map(|_| secs)
                })
                .collect::<candle_core::Result<_>>()?;
            times.sort_by(f64::total_cmp);
            let gflops = flop / times[times.len() / 2] / 1e9;
            let name = format!("{what} {m}×{k} · {k}×{n}");
            eprintln!("{name:<52} {gflops:>7.1} GFLOP/s");
            Ok(ProductSpeed {
                name,
                m,
                n,
                k,
                gflops,
            })
        })
        .collect()
}
