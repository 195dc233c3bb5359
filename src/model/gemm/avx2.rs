//! The AVX2 + FMA micro-kernel of [`super::blocked`]: a 6 × 16 tile of `C`.
//!
//! Per core, AVX2 has two 8-wide FMA pipes: 32 FLOP per cycle. The kernel keeps the 6 × 16
//! tile in 12 of the 16 `ymm` registers and, per step along `k`, loads 16 values of `B` (two
//! registers) and broadcasts 6 values of `A`: 12 FMAs for 8 loads, so it is bound by the FMA
//! pipes, not the load ports. Each value of `C` is one chain of FMAs along `k`, in order.

use std::arch::x86_64::{
    _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_load_ps, _mm256_loadu_ps,
    _mm256_setzero_ps, _mm256_storeu_ps,
};

use super::blocked::{self, Kernel};

/// Rows of a tile.
const MR: usize = 6;
/// Columns of a tile (two 8-wide registers).
const NR: usize = 16;

/// The kernel, for [`blocked::product`].
// SAFETY: `kernel` needs the features `supported` detects, and computes a tile as `TileFn` says.
pub const KERNEL: Kernel = unsafe { Kernel::new(MR, NR, kernel, supported, "AVX2 + FMA") };

/// Whether this CPU can run the kernel.
pub fn supported() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// The micro-kernel: the `mr × nr` tile at `c` (row stride `ldc`) gets `A_panel · B_panel`
/// over `kc` steps, added to it when `accumulate`, else written over it.
#[target_feature(enable = "avx2,fma")]
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
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    for p in 0..kc {
        let b0 = _mm256_load_ps(b.add(p * NR));
        let b1 = _mm256_load_ps(b.add(p * NR + 8));
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm256_broadcast_ss(&*a.add(p * MR + i));
            row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
        }
    }
    if mr == MR && nr == NR {
        for (i, row) in acc.iter().enumerate() {
            let dst = c.add(i * ldc);
            let (mut lo, mut hi) = (row[0], row[1]);
            if accumulate {
                lo = _mm256_add_ps(lo, _mm256_loadu_ps(dst));
                hi = _mm256_add_ps(hi, _mm256_loadu_ps(dst.add(8)));
            }
            _mm256_storeu_ps(dst, lo);
            _mm256_storeu_ps(dst.add(8), hi);
        }
        return;
    }
    let mut tile = [0f32; MR * NR];
    for (i, row) in acc.iter().enumerate() {
        _mm256_storeu_ps(tile.as_mut_ptr().add(i * NR), row[0]);
        _mm256_storeu_ps(tile.as_mut_ptr().add(i * NR + 8), row[1]);
    }
    blocked::store_partial(&tile, NR, c, ldc, (mr, nr), accumulate);
}
