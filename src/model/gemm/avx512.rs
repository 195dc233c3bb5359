//! The AVX-512 micro-kernel of [`super::blocked`]: an 8 × 32 tile of `C`.
//!
//! The `gemm` crate's own AVX-512 kernels reach 390–430 GFLOP/s on this project's 2-core
//! EPYC on most of the training step's products, but only ~210 on the forward pass's `x · Wᵀ`,
//! whose transposed right operand it packs one value at a time; [`super::blocked`] packs it
//! with 8 × 8 register transposes. The kernel keeps the tile in 16 of the 32 `zmm` registers
//! and, per step along `k`, loads 32 values of `B` (two registers) and broadcasts 8 values of
//! `A`: 16 FMAs for 10 loads. Each value of `C` is one chain of FMAs along `k`, in order, as in
//! the AVX2 kernel and the `gemm` crate, so all three give the same bits.

use std::arch::x86_64::{
    _mm512_add_ps, _mm512_fmadd_ps, _mm512_load_ps, _mm512_loadu_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_storeu_ps,
};

use super::blocked::{self, Kernel};

/// Rows of a tile: 64- and 128-row batch slices are whole panels.
const MR: usize = 8;
/// Columns of a tile (two 16-wide registers).
const NR: usize = 32;

/// The kernel, for [`blocked::product`].
// SAFETY: `kernel` needs the features `supported` detects, and computes a tile as `TileFn` says.
pub const KERNEL: Kernel = unsafe { Kernel::new(MR, NR, kernel, supported, "AVX-512F") };

/// Whether this CPU can run the kernel (and the AVX2 packing around it).
pub fn supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
}

/// The micro-kernel: the `mr × nr` tile at `c` (row stride `ldc`) gets `A_panel · B_panel`
/// over `kc` steps, added to it when `accumulate`, else written over it.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    accumulate: bool,
) {
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    for p in 0..kc {
        let b0 = _mm512_load_ps(b.add(p * NR));
        let b1 = _mm512_load_ps(b.add(p * NR + 16));
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm512_set1_ps(*a.add(p * MR + i));
            row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
        }
    }
    if mr == MR && nr == NR {
        for (i, row) in acc.iter().enumerate() {
            let dst = c.add(i * ldc);
            let (mut lo, mut hi) = (row[0], row[1]);
            if accumulate {
                lo = _mm512_add_ps(lo, _mm512_loadu_ps(dst));
                hi = _mm512_add_ps(hi, _mm512_loadu_ps(dst.add(16)));
            }
            _mm512_storeu_ps(dst, lo);
            _mm512_storeu_ps(dst.add(16), hi);
        }
        return;
    }
    let mut tile = [0f32; MR * NR];
    for (i, row) in acc.iter().enumerate() {
        _mm512_storeu_ps(tile.as_mut_ptr().add(i * NR), row[0]);
        _mm512_storeu_ps(tile.as_mut_ptr().add(i * NR + 16), row[1]);
    }
    blocked::store_partial(&tile, NR, c, ldc, (mr, nr), accumulate);
}
