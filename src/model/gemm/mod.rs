//! The MLP's matrix products, and which code computes them.
//!
//! Every product of the training step and of evaluation goes through [`matmul`]. Three
//! backends:
//!
//! - [`Backend::GemmCrate`]: candle's `matmul`, i.e. the `gemm` crate, which picks its own
//!   kernels at run time: AVX-512 where the CPU has it (the `x86-v4` feature in `Cargo.toml`),
//!   else AVX2 + FMA.
//! - [`Backend::Avx2`] and [`Backend::Avx512`]: Distillery's own blocked product
//!   ([`blocked`]) around a 6 × 16 AVX2 ([`avx2`]) or an 8 × 32 AVX-512 ([`avx512`])
//!   micro-kernel. Issue 21 measured the `gemm` crate's AVX2 kernels at 49–55 % of an AVX2
//!   machine's peak over a training epoch, where MKL reached 67–90 % on the same shapes, and
//!   the crate offers no way to choose its kernels, so its AVX2 path cannot even be measured on
//!   an AVX-512 machine; its AVX-512 kernels reach only half their speed on the forward pass's
//!   `x · Wᵀ`. `benches/README.md` has the measurements.
//!
//! All three sum every value of `C` in the same order, so they give the same bits on the
//! MLP's shapes (tests pin this): a run's numbers do not depend on the backend or the CPU.
//!
//! The default ([`Backend::auto`]) is the widest of our kernels the CPU runs, else the `gemm`
//! crate. `DISTILLERY_GEMM=auto|avx512|avx2|gemm` (or `distillery bench --gemm`) chooses
//! explicitly, so the AVX2 path can be run and measured on any AVX2 machine.

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod avx512;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod blocked;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod int8;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod pack;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod peak;

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};

/// The environment variable that chooses the backend.
pub const ENV: &str = "DISTILLERY_GEMM";

/// Who computes the matrix products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// candle's `matmul` (the `gemm` crate, with its own choice of kernels).
    GemmCrate,
    /// Our blocked product with the 6 × 16 AVX2 + FMA kernel, even on AVX-512 CPUs.
    Avx2,
    /// Our blocked product with the 8 × 32 AVX-512 kernel.
    Avx512,
}

impl Backend {
    /// Every backend, in the order of their codes.
    const ALL: [Backend; 3] = [Backend::GemmCrate, Backend::Avx2, Backend::Avx512];

    /// The spelling of `DISTILLERY_GEMM` and `bench --gemm`.
    pub fn key(self) -> &'static str {
        match self {
            Backend::GemmCrate => "gemm",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
        }
    }

    /// Whether this CPU has the instructions the backend needs.
    pub fn supported(self) -> bool {
        match self {
            Backend::GemmCrate => true,
            Backend::Avx2 => avx2_supported(),
            Backend::Avx512 => avx512_supported(),
        }
    }

    /// The backends this CPU can run.
    pub fn available() -> Vec<Self> {
        Self::ALL.into_iter().filter(|b| b.supported()).collect()
    }

    /// The backend for this CPU when nothing is chosen: the widest of our kernels it runs.
    pub fn auto() -> Self {
        [Backend::Avx512, Backend::Avx2]
            .into_iter()
            .find(|b| b.supported())
            .unwrap_or(Backend::GemmCrate)
    }

    /// Parses `auto`, `avx512`, `avx2` or `gemm`; refuses a kernel this CPU cannot run.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        if text == "auto" {
            return Ok(Self::auto());
        }
        let Some(backend) = Self::ALL.into_iter().find(|b| b.key() == text) else {
            return Err(format!(
                "unknown matrix-product backend {text:?}: expected auto, avx512, avx2 or gemm"
            ));
        };
        if !backend.supported() {
            return Err(format!(
                "the {text} matrix products need a CPU with {}, and this one lacks it; \
                 use auto or gemm",
                backend.isa()
            ));
        }
        Ok(backend)
    }

    /// The vector instructions this backend's kernels run on this CPU, for reports.
    pub fn isa(self) -> &'static str {
        match self {
            Backend::Avx2 => "avx2+fma",
            Backend::Avx512 => "avx512f",
            Backend::GemmCrate if avx512_supported() => "avx512f",
            Backend::GemmCrate if avx2_supported() => "avx2+fma",
            Backend::GemmCrate => "the gemm crate's",
        }
    }

    fn code(self) -> u8 {
        1 + Self::ALL.iter().position(|b| *b == self).unwrap_or(0) as u8
    }
}

/// Whether the CPU has AVX-512F with AVX2 and FMA (what [`Backend::Avx512`] needs).
pub fn avx512_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx512::supported()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AVX2 and FMA (what [`Backend::Avx2`] needs).
pub fn avx2_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx2::supported()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The measured peak GFLOP/s of `threads` threads in the vector width `backend`'s kernels use
/// on this CPU ([`peak::measure`]); `None` where there is no such measurement.
pub fn peak_gflops(backend: Backend, threads: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let width = match backend.isa() {
            "avx512f" => 16,
            "avx2+fma" => 8,
            _ => return None,
        };
        peak::measure(width, threads)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (backend, threads);
        None
    }
}

/// 0: not decided yet; otherwise [`Backend::code`].
static CHOSEN: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// [`with_backend`]'s choice for products started on this thread.
    static SCOPED: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// Runs `f` with the products it starts on this thread computed by `backend`, whatever the
/// process-wide choice: how a test runs one computation through each backend without
/// changing the backend of the tests running beside it.
pub fn with_backend<T>(backend: Backend, f: impl FnOnce() -> T) -> T {
    let before = SCOPED.replace(Some(backend));
    let out = f();
    SCOPED.set(before);
    out
}

/// The backend in use: [`with_backend`]'s on this thread, else the one [`set_backend`] chose,
/// else `DISTILLERY_GEMM`'s, else [`Backend::auto`]. (An unreadable `DISTILLERY_GEMM` falls
/// back to `auto` here; the command line checks it first with [`backend_from_env`] and refuses
/// to start.)
pub fn backend() -> Backend {
    if let Some(scoped) = SCOPED.get() {
        return scoped;
    }
    let code = CHOSEN.load(Ordering::Relaxed);
    if let Some(chosen) = Backend::ALL.into_iter().find(|b| b.code() == code) {
        return chosen;
    }
    let chosen = backend_from_env()
        .ok()
        .flatten()
        .unwrap_or_else(Backend::auto);
    set_backend(chosen);
    chosen
}

/// Chooses the backend for the rest of the process.
pub fn set_backend(backend: Backend) {
    CHOSEN.store(backend.code(), Ordering::Relaxed);
}

/// `DISTILLERY_GEMM`'s backend (`None` when unset), or a message naming the variable.
pub fn backend_from_env() -> std::result::Result<Option<Backend>, String> {
    match std::env::var(ENV) {
        Ok(text) => Backend::parse(&text)
            .map(Some)
            .map_err(|e| format!("{ENV}={text}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{ENV} is not valid UTF-8")),
    }
}

/// `a · b` for rank-2 tensors, by [`backend`].
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    matmul_with(backend(), a, b)
}

/// `a · b` by the given backend. Our kernels compute f32 CPU matrices (any strides, transposed
/// views included); anything else goes to candle.
pub fn matmul_with(backend: Backend, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let ours = backend != Backend::GemmCrate
        && a.device().is_cpu()
        && a.dtype() == DType::F32
        && b.dtype() == DType::F32
        && a.rank() == 2
        && b.rank() == 2
        && !gemm_crate_special_case(a.dim(0)?, b.dim(1)?, a.dim(1)?);
    if ours {
        a.apply_op2_no_bwd(b, &Product(backend))
    } else {
        a.matmul(b)
    }
}

/// Whether the `gemm` crate computes an `m × n` product of depth `k` with one of its
/// special-case kernels rather than its blocked one: tiny outputs (at most 16 × 16 values, by
/// dot products), depths of 1 or 2, and matrix-vector products (`gemm_basic_generic`). Those
/// sum in another order, so to give the crate's bits (a 24-row last batch of an epoch through
/// a 10-class output layer is such a product) they are left to it; they are too small for
/// speed to matter.
fn gemm_crate_special_case(m: usize, n: usize, k: usize) -> bool {
    m * n <= 16 * 16 || k <= 2 || m <= 1 || n <= 1
}

/// One of our kernels as a candle op.
struct Product(Backend);

/// A rank-2 f32 operand as a view of its storage.
#[cfg(target_arch = "x86_64")]
fn view<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<blocked::View<'a>> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("matmul: only f32 tensors are supported");
    };
    let (&[rows, cols], &[rs, cs]) = (layout.dims(), layout.stride()) else {
        candle_core::bail!("matmul: expected matrices, got {:?}", layout.dims());
    };
    Ok(blocked::View {
        values,
        start: layout.start_offset(),
        rows,
        cols,
        rs,
        cs,
    })
}

impl CustomOp2 for Product {
    fn name(&self) -> &'static str {
        self.0.key()
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        #[cfg(target_arch = "x86_64")]
        {
            let (a, b) = (view(s1, l1)?, view(s2, l2)?);
            let shape = Shape::from((a.rows, b.cols));
            let c = match self.0 {
                Backend::Avx512 => blocked::product(avx512::KERNEL, a, b),
                _ => blocked::product(avx2::KERNEL, a, b),
            };
            let c =
                c.map_err(|e| candle_core::Error::Msg(format!("{} matmul: {e}", self.0.key())))?;
            Ok((CpuStorage::F32(c), shape))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (s1, l1, s2, l2);
            candle_core::bail!("{} matmul: not an x86-64 CPU", self.0.key())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// A deterministic matrix with values in [-1, 1).
    fn matrix(rows: usize, cols: usize, seed: u64) -> Tensor {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        Tensor::from_vec(values, (rows, cols), &Device::Cpu).unwrap()
    }

    fn max_abs_diff(x: &Tensor, y: &Tensor) -> f32 {
        x.sub(y)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    /// Our product against candle's on every kind of edge: sizes that are and are not
    /// multiples of the 6 × 16 tile and of the 256-deep and 120-row blocks, `k` of 1, products
    /// small and large enough to be split across threads, and both operands plain, transposed
    /// views, and narrowed views (an offset start and a row stride wider than the row).
    /// Our backends this CPU runs.
    fn ours() -> Vec<Backend> {
        Backend::available()
            .into_iter()
            .filter(|b| *b != Backend::GemmCrate)
            .collect()
    }

    #[test]
    fn our_products_match_candle_on_every_shape_and_layout() {
        for backend in ours() {
            products_match_candle(backend);
        }
    }

    fn products_match_candle(backend: Backend) {
        let shapes = [
            (1, 1, 1),
            (5, 7, 3),
            (6, 16, 256),
            (7, 17, 257),
            (64, 800, 784),
            (128, 10, 800),
            (800, 784, 64),
            (121, 33, 513),
            (10, 800, 64),
            (64, 1200, 1200),
        ];
        for (i, &(m, n, k)) in shapes.iter().enumerate() {
            let seed = i as u64;
            let a = matrix(m, k, seed);
            let b = matrix(k, n, seed + 100);
            let at = matrix(k, m, seed + 200).t().unwrap();
            let bt = matrix(n, k, seed + 300).t().unwrap();
            let wide_a = matrix(m + 2, k + 5, seed + 400)
                .narrow(0, 1, m)
                .unwrap()
                .narrow(1, 3, k)
                .unwrap();
            for (x, y) in [(&a, &b), (&at, &b), (&a, &bt), (&at, &bt), (&wide_a, &bt)] {
                let ours = matmul_with(backend, x, y).unwrap();
                let reference = x.matmul(y).unwrap();
                assert_eq!(ours.dims(), reference.dims());
                // Both sum k products of values in [-1, 1) in f32, in different orders.
                let tolerance = 1e-6 * k as f32 + 1e-6;
                let diff = max_abs_diff(&ours, &reference);
                assert!(
                    diff <= tolerance,
                    "{backend:?} {m}×{k} · {k}×{n}: off by {diff} (tolerance {tolerance})"
                );
            }
        }
    }

    /// On the MLP's shapes and layouts (batch slices of 64 and whole batches of 128, the
    /// forward `x·Wᵀ`, the weight gradient `dZᵀ·x` and the input gradient `dZ·W`) our product
    /// gives exactly candle's bits: the same split along k, the same order of FMAs (see
    /// `avx2::depth_block`), so the training does not depend on the backend.
    #[test]
    fn our_products_give_candles_bits_on_the_mlp_shapes() {
        for backend in ours() {
            products_give_candles_bits(backend);
        }
    }

    fn products_give_candles_bits(backend: Backend) {
        // (batch, in, out) of every layer of the teacher, the student and the 2×30 student.
        let layers = [
            (784, 1200),
            (1200, 1200),
            (1200, 10),
            (784, 800),
            (800, 800),
            (800, 10),
            (784, 30),
            (30, 30),
            (30, 10),
        ];
        // 24 and 7: the last, partial batch of an epoch (a 10-class output layer then makes
        // one of the crate's special-case products).
        for batch in [7, 24, 64, 128, 2000] {
            for (i, &(inputs, outputs)) in layers.iter().enumerate() {
                let seed = (batch + i) as u64;
                let x = matrix(batch, inputs, seed);
                let w = matrix(outputs, inputs, seed + 1);
                let dz = matrix(batch, outputs, seed + 2);
                let products = [
                    ("x·Wᵀ", x.clone(), w.t().unwrap()),
                    ("dZᵀ·x", dz.t().unwrap(), x.clone()),
                    ("dZ·W", dz.clone(), w.clone()),
                ];
                for (what, a, b) in products {
                    let ours = matmul_with(backend, &a, &b).unwrap();
                    let candle = a.matmul(&b).unwrap();
                    let (ours, candle): (Vec<f32>, Vec<f32>) = (
                        ours.flatten_all().unwrap().to_vec1().unwrap(),
                        candle.flatten_all().unwrap().to_vec1().unwrap(),
                    );
                    let differ = ours
                        .iter()
                        .zip(&candle)
                        .filter(|(o, c)| o.to_bits() != c.to_bits())
                        .count();
                    assert_eq!(
                        differ, 0,
                        "{backend:?} {what} at batch {batch}, {inputs} → {outputs}: {differ} values differ"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_depth_gives_zeros() {
        if !avx2_supported() {
            return;
        }
        let a = Tensor::zeros((3, 0), DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::zeros((0, 4), DType::F32, &Device::Cpu).unwrap();
        let c = matmul_with(Backend::Avx2, &a, &b).unwrap();
        assert_eq!(c.dims(), &[3, 4]);
        assert_eq!(
            c.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            [0.0; 12]
        );
    }

    #[test]
    fn backends_parse_and_refuse_nonsense() {
        assert_eq!(Backend::parse("gemm"), Ok(Backend::GemmCrate));
        assert_eq!(Backend::parse(" auto "), Ok(Backend::auto()));
        for backend in [Backend::Avx2, Backend::Avx512] {
            match Backend::parse(backend.key()) {
                Ok(parsed) => assert!(parsed == backend && backend.supported()),
                Err(e) => assert!(!backend.supported() && e.contains("lacks"), "{e}"),
            }
        }
        let err = Backend::parse("mkl").unwrap_err();
        assert!(
            err.contains("\"mkl\"") && err.contains("auto, avx512, avx2 or gemm"),
            "{err}"
        );
    }
}
